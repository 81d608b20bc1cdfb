import Router from '@koa/router';

/** `GET /openapi.json`: the API's OpenAPI document, serialised once. */
export function openApiRoute(document: object): Router {
  const body = JSON.stringify(document);
  const router = new Router();
  router.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = body;
  });
  return router;
}
