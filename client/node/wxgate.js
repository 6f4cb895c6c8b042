// Calling wxgate from Node.js with @grpc/grpc-js, and reading the
// google.rpc.ErrorInfo every wxgate error carries.
//
// The .proto files are loaded at run time by @grpc/proto-loader: no generated
// code, no build step. Copy this file and point WXGATE_PROTO_DIR (or
// PROTO_DIR below) at a copy of wxgate's proto/ directory.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const PROTO_DIR = process.env.WXGATE_PROTO_DIR || path.join(__dirname, '..', '..', 'proto');

// keepCase: fields are named as in the .proto (js_code, not jsCode).
// longs: String: int64 fields (timestamps) arrive as decimal strings, exact.
// defaults: unset fields arrive as "" / 0 instead of being absent.
const definition = protoLoader.loadSync(
    ['wxgate/v1/identity.proto', 'wxgate/v1/signature.proto', 'wxgate/v1/token.proto'],
    {includeDirs: [PROTO_DIR], keepCase: true, longs: String, enums: String, defaults: true});
const v1 = grpc.loadPackageDefinition(definition).wxgate.v1;

// One client per service; grpc-js shares the connection between clients of
// the same target and options. Over the network use TLS:
// grpc.credentials.createSsl(fs.readFileSync('ca.pem')).
function connect(target, credentials = grpc.credentials.createInsecure()) {
  return {
    identity: new v1.IdentityService(target, credentials),
    signature: new v1.SignatureService(target, credentials),
    token: new v1.TokenService(target, credentials),
    close() {
      this.identity.close();
      this.signature.close();
      this.token.close();
    },
  };
}

// A unary call as a promise. Always set a deadline: wxgate answers
// DEADLINE_EXCEEDED rather than waiting on WeChat past it. requestId is sent
// as x-request-id and comes back in every error's ErrorInfo and wxgate's log
// lines, so your logs and wxgate's can be joined on it.
function call(client, method, request, {requestId, timeoutMs = 10000} = {}) {
  const metadata = new grpc.Metadata();
  if (requestId) metadata.set('x-request-id', requestId);
  return new Promise((resolve, reject) => {
    client[method](request, metadata, {deadline: Date.now() + timeoutMs},
                   (err, response) => (err ? reject(err) : resolve(response)));
  });
}

// google.rpc.Status and ErrorInfo, to decode the trailer
// grpc-status-details-bin. protobufjs bundles google/protobuf/any.proto and
// duration.proto, which these import.
const rpc = new protobuf.Root();
rpc.resolvePath = (origin, target) => path.resolve(PROTO_DIR, target);
rpc.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], {keepCase: true});
const Status = rpc.lookupType('google.rpc.Status');
const ErrorInfo = rpc.lookupType('google.rpc.ErrorInfo');
const ERROR_INFO_URL = 'type.googleapis.com/google.rpc.ErrorInfo';

// The ErrorInfo of a failed call: {reason, domain, metadata: {request_id,
// app, field, ...}}, or null for errors that have none (gRPC's own, such as
// UNAVAILABLE when nothing listens). Branch on reason, never on the message:
// the README's error table lists every reason.
function errorInfo(err) {
  const [details] = err.metadata ? err.metadata.get('grpc-status-details-bin') : [];
  if (!details) return null;
  const status = Status.decode(details);
  const any = status.details.find((detail) => detail.type_url === ERROR_INFO_URL);
  return any ? ErrorInfo.toObject(ErrorInfo.decode(any.value), {defaults: true}) : null;
}

// The canonical name of a gRPC status code: 9 -> 'FAILED_PRECONDITION'.
function codeName(code) {
  return grpc.status[code];
}

module.exports = {connect, call, errorInfo, codeName, grpc};
