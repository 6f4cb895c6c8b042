<?php
// Calling wxgate over its HTTP/JSON gateway (server.http_address) with curl:
// for PHP, which has no gRPC in Debian. Copy this file.
//
// Every RPC is `POST /<package.Service>/<Method>` with a JSON body in the
// protobuf JSON mapping. Answers use lowerCamelCase names, leave out fields
// at their default value ('' / 0 / false: read them with `?? ''`) and write
// int64 fields as strings. An error is an HTTP status with the JSON form of
// google.rpc.Status, thrown here as a WxgateError.

declare(strict_types=1);

namespace Wxgate;

/** A wxgate error: the gRPC code, and the google.rpc.ErrorInfo that explains it. */
final class WxgateError extends \RuntimeException
{
    /**
     * @param int    $code       the gRPC code: 9 is FAILED_PRECONDITION (see GRPC_CODES)
     * @param string $reason     ErrorInfo's reason, e.g. "NO_SESSION": branch on this,
     *                           never on the message ('' when no ErrorInfo came back)
     * @param array  $metadata   ErrorInfo's metadata, e.g. ["app" => "shop", "field" => "openid"]
     * @param string $requestId  quote it when reporting a problem: wxgate logs it
     * @param array  $details    every detail as sent (RetryInfo's retryDelay, say)
     */
    public function __construct(
        string $message,
        int $code,
        public readonly int $httpStatus,
        public readonly string $reason = '',
        public readonly string $domain = '',
        public readonly array $metadata = [],
        public readonly string $requestId = '',
        public readonly array $details = [],
    ) {
        parent::__construct($message, $code);
    }

    /** The code's canonical name, as gRPC's clients spell it. */
    public function codeName(): string
    {
        return GRPC_CODES[$this->getCode()] ?? (string) $this->getCode();
    }
}

const GRPC_CODES = [
    0 => 'OK', 1 => 'CANCELLED', 2 => 'UNKNOWN', 3 => 'INVALID_ARGUMENT',
    4 => 'DEADLINE_EXCEEDED', 5 => 'NOT_FOUND', 6 => 'ALREADY_EXISTS',
    7 => 'PERMISSION_DENIED', 8 => 'RESOURCE_EXHAUSTED', 9 => 'FAILED_PRECONDITION',
    10 => 'ABORTED', 11 => 'OUT_OF_RANGE', 12 => 'UNIMPLEMENTED', 13 => 'INTERNAL',
    14 => 'UNAVAILABLE', 15 => 'DATA_LOSS', 16 => 'UNAUTHENTICATED',
];

final class WxgateHttp
{
    private \CurlHandle $curl;  // one handle: its connection is kept alive between calls

    /**
     * @param string  $baseUrl  "http://127.0.0.1:8081", as wxgate logs it ("HTTP/JSON on ...")
     * @param ?string $token    the caller token, when wxgate's config lists callers' tokens
     */
    public function __construct(
        private readonly string $baseUrl,
        private readonly ?string $token = null,
        private readonly float $timeoutSeconds = 10.0,
    ) {
        $this->curl = curl_init();
    }

    /**
     * Calls $method ("wxgate.v1.IdentityService/Code2Session") with $request
     * (lowerCamelCase or proto field names) and returns the decoded answer.
     * $requestId goes out as x-request-id: wxgate logs it, and its errors carry it.
     *
     * @throws WxgateError
     */
    public function call(string $method, array $request, ?string $requestId = null): array
    {
        $requestId ??= bin2hex(random_bytes(8));
        $headers = [
            'Content-Type: application/json',
            "x-request-id: $requestId",
            // The deadline, in gRPC's format: wxgate gives up (DEADLINE_EXCEEDED)
            // rather than answer after the caller stopped waiting.
            'grpc-timeout: ' . (int) ceil($this->timeoutSeconds * 1000) . 'm',
        ];
        if ($this->token !== null) {
            $headers[] = "authorization: Bearer {$this->token}";
        }
        curl_setopt_array($this->curl, [
            CURLOPT_URL => rtrim($this->baseUrl, '/') . '/' . $method,
            CURLOPT_POST => true,
            // (object): an empty request is {}, not [].
            CURLOPT_POSTFIELDS => json_encode((object) $request, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES),
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true,
            // A second more than the deadline, so wxgate's own answer arrives.
            CURLOPT_TIMEOUT_MS => (int) ceil($this->timeoutSeconds * 1000) + 1000,
        ]);
        $body = curl_exec($this->curl);
        if ($body === false) {  // no answer at all: as gRPC would call it
            $timedOut = curl_errno($this->curl) === CURLE_OPERATION_TIMEDOUT;
            throw new WxgateError("$method: " . curl_error($this->curl), $timedOut ? 4 : 14,
                                  0, requestId: $requestId);
        }
        $status = curl_getinfo($this->curl, CURLINFO_RESPONSE_CODE);
        if ($status === 200) {
            return json_decode($body, true, 512, JSON_THROW_ON_ERROR);
        }
        throw self::error($method, $status, $body, $requestId);
    }

    /** The WxgateError of a non-200 answer: google.rpc.Status as JSON, ErrorInfo among its details. */
    private static function error(string $method, int $status, string $body, string $requestId): WxgateError
    {
        try {
            $rpcStatus = json_decode($body, true, 512, JSON_THROW_ON_ERROR);
        } catch (\JsonException) {
            $rpcStatus = null;
        }
        if (!is_array($rpcStatus) || !isset($rpcStatus['code'])) {
            // Not wxgate's answer (a proxy's error page, say): 502-504 are worth a retry.
            return new WxgateError("$method: HTTP $status: " . substr($body, 0, 200),
                                   in_array($status, [502, 503, 504], true) ? 14 : 2, $status,
                                   requestId: $requestId);
        }
        $details = $rpcStatus['details'] ?? [];
        $info = [];
        foreach ($details as $detail) {
            if (($detail['@type'] ?? '') === 'type.googleapis.com/google.rpc.ErrorInfo') {
                $info = $detail;
            }
        }
        return new WxgateError(
            "$method: " . ($rpcStatus['message'] ?? ''),
            (int) $rpcStatus['code'],
            $status,
            reason: $info['reason'] ?? '',
            domain: $info['domain'] ?? '',
            metadata: $info['metadata'] ?? [],
            requestId: $info['metadata']['request_id'] ?? $requestId,
            details: $details,
        );
    }
}
