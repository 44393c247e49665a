/**
 * Two small workflows for the end-to-end test, in n8n's export format: a production webhook whose Code
 * node echoes the request body (it runs in the worker's task runner), and one whose Code node fails.
 */
function webhookWorkflow(id: string, path: string, webhookId: string, code: string): object {
  return {
    id,
    name: `groundwork e2e ${path}`,
    active: false,
    settings: { executionOrder: 'v1' },
    nodes: [
      { id: `${id}-hook`, name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId, parameters: { httpMethod: 'POST', path, responseMode: 'lastNode', options: {} } },
      { id: `${id}-code`, name: 'Code', type: 'n8n-nodes-base.code', typeVersion: 2, position: [220, 0], parameters: { jsCode: code } },
    ],
    connections: { Webhook: { main: [[{ node: 'Code', type: 'main', index: 0 }]] } },
  };
}

export const ECHO = { id: 'gwE2eEchoFlow001', path: 'e2e-echo' };
export const FAILING = { id: 'gwE2eFailFlow001', path: 'e2e-fail' };

export const WORKFLOWS = [
  webhookWorkflow(ECHO.id, ECHO.path, '3f6c1e0a-5b7d-4c2e-9a8f-1d2b3c4e5f60', 'return [{ json: { ok: true, got: $input.first().json.body } }];'),
  webhookWorkflow(FAILING.id, FAILING.path, '8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', "throw new Error('deliberate failure');"),
];
