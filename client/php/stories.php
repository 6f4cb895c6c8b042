<?php
// wxgate's mini-program login in PHP over HTTP/JSON, and reading an error.
//
//   php stories.php < inputs.json    (see README.md; the suite's
//                                     tests/polyglot/stories.py writes inputs.json)

declare(strict_types=1);

require __DIR__ . '/WxgateHttp.php';

use Wxgate\WxgateError;
use Wxgate\WxgateHttp;

// Story 1: a mini-program user logs in. The mini-program called wx.login()
// and sent the code to your backend, then getUserProfile's encryptedData and
// iv. wxgate exchanges the code and keeps the session_key: your backend only
// ever sees the openid and unionid.
function miniProgramLogin(WxgateHttp $wx, string $app, string $jsCode,
                          string $encryptedData, string $iv): array
{
    $session = $wx->call('wxgate.v1.IdentityService/Code2Session',
                         ['app' => $app, 'jsCode' => $jsCode]);
    $decrypted = $wx->call('wxgate.v1.IdentityService/DecryptUserData', [
        'app' => $app,
        'openid' => $session['openid'],
        'encryptedData' => $encryptedData,
        'iv' => $iv,
    ]);
    // json is the user data as WeChat sealed it; wxgate reads openid and
    // unionid from it and checks them against the session's. A field left
    // empty is absent from the answer: unionid is, for an app not bound to
    // an Open Platform account.
    return [
        'openid' => $session['openid'],
        'unionid' => $session['unionid'] ?? '',
        'decrypted' => [
            'json' => $decrypted['json'],
            'openid' => $decrypted['openid'] ?? '',
            'unionid' => $decrypted['unionid'] ?? '',
        ],
    ];
}

// An error, read as a caller should: the code, then ErrorInfo's reason and
// metadata. Here DecryptUserData for a user wxgate holds no session for:
// HTTP 400, FAILED_PRECONDITION, reason NO_SESSION ("call Code2Session first").
function decryptWithoutSession(WxgateHttp $wx, string $app, string $openid,
                               string $encryptedData, string $iv, string $requestId): array
{
    try {
        $wx->call('wxgate.v1.IdentityService/DecryptUserData',
                  ['app' => $app, 'openid' => $openid, 'encryptedData' => $encryptedData, 'iv' => $iv],
                  $requestId);
    } catch (WxgateError $e) {
        // Branch on $e->reason, never on the message: on NO_SESSION, say, ask
        // the mini-program to wx.login() again. Quote $e->requestId.
        return [
            'http_status' => $e->httpStatus,
            'code' => $e->codeName(),
            'message' => $e->getMessage(),
            'domain' => $e->domain,
            'reason' => $e->reason,
            'metadata' => $e->metadata,
        ];
    }
    throw new LogicException('DecryptUserData without a session succeeded');
}

// ---- The suite's glue: inputs as JSON on stdin, results as JSON on stdout.

$in = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
$wx = new WxgateHttp($in['http_base']);
try {
    $login = $in['login'];
    $error = $in['error'];
    echo json_encode([
        'login' => miniProgramLogin($wx, $login['app'], $login['js_code'],
                                    $login['encrypted_data'], $login['iv']),
        'error' => decryptWithoutSession($wx, $error['app'], $error['openid'],
                                         $error['encrypted_data'], $error['iv'],
                                         $error['request_id']),
    ], JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES), "\n";
} catch (WxgateError $e) {
    fwrite(STDERR, "{$e->codeName()} (HTTP {$e->httpStatus}) {$e->getMessage()} reason={$e->reason}"
                   . " request_id={$e->requestId}\n");
    exit(1);
}
