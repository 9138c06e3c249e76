// The workflow bundle's entry: every workflow the worker registers.
export { inboundMessage } from './inbound-message.js';
export { replayDelivery } from './replay-delivery.js';
export { pruneRetention } from './retention.js';
