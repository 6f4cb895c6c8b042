// wxgate through server reflection alone, as grpcurl drives it: no .proto
// file anywhere. Lists the services, describes SignJsapiConfig, calls it with
// a JSON request, and decodes a refused call's google.rpc.ErrorInfo from
// grpc-status-details-bin with types the server's reflection described.
//
//   node reflection_client.js TARGET REFLECTION_VERSION APP ALLOWED_URL
//
// REFLECTION_VERSION is v1 or v1alpha. Exits non-zero on the first failed check.
'use strict';

const assert = require('node:assert/strict');
const grpc = require('@grpc/grpc-js');
const { GrpcReflection } = require('grpc-js-reflection-client');

const [target, version, app, allowedUrl] = process.argv.slice(2);
const credentials = grpc.credentials.createInsecure();
const deadline = () => ({ deadline: Date.now() + 20000 });

// A message type, resolved from the server's reflection by its full name.
async function typeOf(reflection, fullName) {
  const descriptor = await reflection.getDescriptorBySymbol(fullName);
  return descriptor.getProtobufJsRoot().lookupType(fullName);
}

function call(client, method, request) {
  return new Promise((resolve) => {
    client[method](request, deadline(), (error, response) => resolve({ error, response }));
  });
}

async function main() {
  const reflection = new GrpcReflection(target, credentials, {}, version);

  const services = await reflection.listServices();
  for (const name of ['wxgate.v1.SignatureService', 'grpc.reflection.v1.ServerReflection',
    'grpc.reflection.v1alpha.ServerReflection']) {
    assert.ok(services.includes(name), `${name} not in ${services}`);
  }

  const methods = await reflection.listMethods('wxgate.v1.SignatureService');
  const sign = methods.find((method) => method.name === 'SignJsapiConfig');
  assert.ok(sign, `SignJsapiConfig not in ${methods.map((method) => method.name)}`);
  assert.equal(sign.definition.requestType.type.name, 'SignJsapiConfigRequest');
  assert.deepEqual(sign.definition.requestType.type.field.map((field) => field.name),
    ['app', 'url']);

  const descriptor = await reflection.getDescriptorBySymbol('wxgate.v1.SignatureService');
  const { SignatureService } = descriptor.getPackageObject({ keepCase: true, longs: String })
    .wxgate.v1;
  const client = new SignatureService(target, credentials);

  const signed = await call(client, 'SignJsapiConfig',
    JSON.parse(JSON.stringify({ app, url: allowedUrl })));
  assert.ifError(signed.error);
  assert.match(signed.response.signature, /^[0-9a-f]{40}$/);
  assert.ok(signed.response.nonce_str.length > 0);

  const refused = await call(client, 'SignJsapiConfig',
    JSON.parse(JSON.stringify({ app, url: 'ftp://not-a-page' })));
  assert.equal(refused.error?.code, grpc.status.INVALID_ARGUMENT, String(refused.error));
  const [details] = refused.error.metadata.get('grpc-status-details-bin');
  assert.ok(details, 'no grpc-status-details-bin');
  const Status = await typeOf(reflection, 'google.rpc.Status');
  const status = Status.decode(details);
  assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
  const infos = [];
  for (const any of status.details) {
    const typeName = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
    const Type = await typeOf(reflection, typeName);
    if (typeName === 'google.rpc.ErrorInfo') infos.push(Type.toObject(Type.decode(any.value)));
  }
  assert.equal(infos.length, 1, `ErrorInfo among ${status.details.map((any) => any.type_url)}`);
  const [info] = infos;
  assert.equal(info.reason, 'INVALID_URL');
  assert.equal(info.domain, 'wxgate');
  assert.equal(info.metadata.app, app);
  assert.equal(info.metadata.field, 'url');
  assert.match(info.metadata.request_id, /^[0-9a-f]{32}$/);

  client.close();
  console.log(`reflection ${version}: listed, described, called, ErrorInfo ${info.reason}`);
}

main().then(() => process.exit(0), (error) => {
  console.error(error);
  process.exit(1);
});
