// wxgate's two stories in Node.js, and reading an error's ErrorInfo.
//
//   node stories.js < inputs.json    (see README.md; the suite's
//                                     tests/polyglot/stories.py writes inputs.json)
'use strict';

const {connect, call, errorInfo, codeName} = require('./wxgate');

// Story 1: a mini-program user logs in. The mini-program called wx.login()
// and sent the code to your backend, then getUserProfile's encryptedData and
// iv. wxgate exchanges the code and keeps the session_key: your backend only
// ever sees the openid and unionid.
async function miniProgramLogin(wx, {app, js_code, encrypted_data, iv}) {
  const session = await call(wx.identity, 'Code2Session', {app, js_code});
  const decrypted = await call(wx.identity, 'DecryptUserData',
                               {app, openid: session.openid, encrypted_data, iv});
  // decrypted.json is the user data as WeChat sealed it; openid and unionid
  // are read from it and checked against the session's.
  return {
    openid: session.openid,
    unionid: session.unionid,
    decrypted: {json: decrypted.json, openid: decrypted.openid, unionid: decrypted.unionid},
  };
}

// Story 2: the WeCom customer-service sidebar. The page needs wx.config and
// wx.agentConfig signed for its URL, then asks who the customer is. The
// unionid is the same person's as in story 1.
async function weComSidebar(wx, {app, url, external_userid}) {
  const [jsapi, agent] = await Promise.all([
    call(wx.signature, 'SignJsapiConfig', {app, url}),  // -> wx.config({...})
    call(wx.signature, 'SignAgentConfig', {app, url}),  // -> wx.agentConfig({...})
  ]);
  const contact = await call(wx.identity, 'GetExternalContact', {app, external_userid});
  return {jsapi, agent, unionid: contact.unionid};
}

// An error, read as a caller should: the gRPC code, then ErrorInfo's reason
// and metadata. Here DecryptUserData for a user wxgate holds no session for:
// FAILED_PRECONDITION, reason NO_SESSION ("call Code2Session first").
async function decryptWithoutSession(wx, {app, openid, encrypted_data, iv, request_id}) {
  try {
    await call(wx.identity, 'DecryptUserData', {app, openid, encrypted_data, iv},
               {requestId: request_id});
  } catch (err) {
    // Branch on info.reason, never on the message: on NO_SESSION, say, ask
    // the mini-program to wx.login() again. Quote metadata.request_id.
    const info = errorInfo(err) || {reason: '', domain: '', metadata: {}};
    return {code: codeName(err.code), message: err.details, ...info};
  }
  throw new Error('DecryptUserData without a session succeeded');
}

// ---- The suite's glue: inputs as JSON on stdin, results as JSON on stdout.

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const inputs = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const wx = connect(inputs.target);
  try {
    const output = {
      login: await miniProgramLogin(wx, inputs.login),
      sidebar: await weComSidebar(wx, inputs.sidebar),
      error: await decryptWithoutSession(wx, inputs.error),
    };
    process.stdout.write(JSON.stringify(output) + '\n');
  } finally {
    wx.close();
  }
}

main().catch((err) => {
  const info = err.code !== undefined ? errorInfo(err) : null;
  console.error(info ? `${err.message} ${JSON.stringify(info)}` : err.stack || String(err));
  process.exitCode = 1;
});
