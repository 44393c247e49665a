/**
 * Small workflows for the end-to-end test, in n8n's export format: a production webhook whose Code node echoes
 * the request body (it runs in the worker's task runner), one whose Code node fails, a form, a webhook that
 * waits to be resumed through its resume URL, and an MCP server.
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

function formWorkflow(id: string, path: string, webhookId: string): object {
  return {
    id,
    name: `groundwork e2e ${path}`,
    active: false,
    settings: { executionOrder: 'v1' },
    nodes: [
      { id: `${id}-form`, name: 'Form', type: 'n8n-nodes-base.formTrigger', typeVersion: 2.2, position: [0, 0], webhookId, parameters: { formTitle: 'groundwork sign-up', formFields: { values: [{ fieldLabel: 'Name' }] }, responseMode: 'onReceived', options: { path } } },
      { id: `${id}-code`, name: 'Code', type: 'n8n-nodes-base.code', typeVersion: 2, position: [220, 0], parameters: { jsCode: 'return [{ json: { signedUp: $input.first().json.Name } }];' } },
    ],
    connections: { Form: { main: [[{ node: 'Code', type: 'main', index: 0 }]] } },
  };
}

/** A webhook that answers with its execution's resume URL (n8n signs it), then waits to be resumed through it. */
function waitWorkflow(id: string, path: string, webhookId: string, waitWebhookId: string): object {
  return {
    id,
    name: `groundwork e2e ${path}`,
    active: false,
    settings: { executionOrder: 'v1' },
    nodes: [
      { id: `${id}-hook`, name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId, parameters: { httpMethod: 'POST', path, responseMode: 'responseNode', options: {} } },
      { id: `${id}-respond`, name: 'Respond', type: 'n8n-nodes-base.respondToWebhook', typeVersion: 1.1, position: [220, 0], parameters: { respondWith: 'json', responseBody: '={{ JSON.stringify({ resumeUrl: $execution.resumeUrl }) }}', options: {} } },
      { id: `${id}-wait`, name: 'Wait', type: 'n8n-nodes-base.wait', typeVersion: 1.1, position: [440, 0], webhookId: waitWebhookId, parameters: { resume: 'webhook', httpMethod: 'POST', options: {} } },
      { id: `${id}-code`, name: 'Code', type: 'n8n-nodes-base.code', typeVersion: 2, position: [660, 0], parameters: { jsCode: 'return [{ json: { resumedWith: $input.first().json.body } }];' } },
    ],
    connections: {
      Webhook: { main: [[{ node: 'Respond', type: 'main', index: 0 }]] },
      Respond: { main: [[{ node: 'Wait', type: 'main', index: 0 }]] },
      Wait: { main: [[{ node: 'Code', type: 'main', index: 0 }]] },
    },
  };
}

function mcpWorkflow(id: string, path: string, webhookId: string): object {
  return {
    id,
    name: `groundwork e2e ${path}`,
    active: false,
    settings: { executionOrder: 'v1' },
    nodes: [{ id: `${id}-mcp`, name: 'MCP Server Trigger', type: '@n8n/n8n-nodes-langchain.mcpTrigger', typeVersion: 2, position: [0, 0], webhookId, parameters: { path } }],
    connections: {},
  };
}

export const ECHO = { id: 'gwE2eEchoFlow001', path: 'e2e-echo' };
export const FAILING = { id: 'gwE2eFailFlow001', path: 'e2e-fail' };
export const FORM = { id: 'gwE2eFormFlow001', path: 'e2e-form' };
export const WAIT = { id: 'gwE2eWaitFlow001', path: 'e2e-wait' };
export const MCP = { id: 'gwE2eMcpFlow0001', path: 'e2e-mcp' };
/** Every workflow the test publishes, each with the path its trigger registers. */
export const PUBLISHED = [ECHO, FAILING, FORM, WAIT, MCP];

export const WORKFLOWS = [
  webhookWorkflow(ECHO.id, ECHO.path, '3f6c1e0a-5b7d-4c2e-9a8f-1d2b3c4e5f60', 'return [{ json: { ok: true, got: $input.first().json.body } }];'),
  webhookWorkflow(FAILING.id, FAILING.path, '8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', "throw new Error('deliberate failure');"),
  formWorkflow(FORM.id, FORM.path, 'c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f'),
  waitWorkflow(WAIT.id, WAIT.path, 'd3e4f5a6-b7c8-4d9e-8f1a-2b3c4d5e6f70', 'e4f5a6b7-c8d9-4e0f-9a1b-3c4d5e6f7081'),
  mcpWorkflow(MCP.id, MCP.path, 'f5a6b7c8-d9e0-4f1a-8b2c-4d5e6f708192'),
];
