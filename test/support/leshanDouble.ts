/**
 * Test double of Eclipse Leshan's demo-server REST API (ClientServlet, EventServlet), faithful to
 * /work/shared/reference/leshan-rest-api.md. Implementation in ./leshanDouble/.
 */
export { startLeshanDouble } from './leshanDouble/server.js';
export { sseFrame } from './leshanDouble/events.js';
export { statusName } from './leshanDouble/response.js';
export type {
  DeviceAnswer,
  DoubleClient,
  DoubleOp,
  DoubleUpdate,
  LeshanDouble,
  LeshanDoubleOptions,
  RecordedRequest,
} from './leshanDouble/types.js';
