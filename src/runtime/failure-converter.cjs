// The failure converter of every Temporal client and worker when PAYLOAD_KEY is set (see
// payload-codec.ts): failure messages and stacks travel as payloads, which the codec encrypts.
// CommonJS because the SDK `require`s it by path and bundles it into the workflow sandbox.
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
