/**
 * Small workflows for the end-to-end test, in n8n's export format: a production webhook whose Code node echoes
 * the request body (it runs in the worker's task runner), one whose Code node fails, a form, a webhook that
 * waits to be resumed through its resume URL, and an MCP server.
 */
interface Step {
  name: string;
  type: string;
  typeVersion: number;
  webhookId?: string;
  parameters: object;
}

/** A workflow whose nodes run one after the other, in n8n's export format. */
function chain(id: string, path: string, steps: Step[]): object {
  return {
    id,
    name: `groundwork e2e ${path}`,
    active: false,
    settings: { executionOrder: 'v1' },
    nodes: steps.map((step, i) => ({ id: `${id}-${step.name.toLowerCase()}`, position: [220 * i, 0], ...step })),
    connections: Object.fromEntries(steps.slice(1).map((step, i) => [steps[i]!.name, { main: [[{ node: step.name, type: 'main', index: 0 }]] }])),
  };
}

const code = (jsCode: string): Step => ({ name: 'Code', type: 'n8n-nodes-base.code', typeVersion: 2, parameters: { jsCode } });
const webhook = (path: string, webhookId: string, responseMode: string): Step => ({ name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, webhookId, parameters: { httpMethod: 'POST', path, responseMode, options: {} } });

const webhookWorkflow = (id: string, path: string, webhookId: string, js: string) => chain(id, path, [webhook(path, webhookId, 'lastNode'), code(js)]);

const formWorkflow = (id: string, path: string, webhookId: string) =>
  chain(id, path, [
    { name: 'Form', type: 'n8n-nodes-base.formTrigger', typeVersion: 2.2, webhookId, parameters: { formTitle: 'groundwork sign-up', formFields: { values: [{ fieldLabel: 'Name' }] }, responseMode: 'onReceived', options: { path } } },
    code('return [{ json: { signedUp: $input.first().json.Name } }];'),
  ]);

/** A webhook that answers with its execution's resume URL (n8n signs it), then waits to be resumed through it. */
const waitWorkflow = (id: string, path: string, webhookId: string, waitWebhookId: string) =>
  chain(id, path, [
    webhook(path, webhookId, 'responseNode'),
    { name: 'Respond', type: 'n8n-nodes-base.respondToWebhook', typeVersion: 1.1, parameters: { respondWith: 'json', responseBody: '={{ JSON.stringify({ resumeUrl: $execution.resumeUrl }) }}', options: {} } },
    { name: 'Wait', type: 'n8n-nodes-base.wait', typeVersion: 1.1, webhookId: waitWebhookId, parameters: { resume: 'webhook', httpMethod: 'POST', options: {} } },
    code('return [{ json: { resumedWith: $input.first().json.body } }];'),
  ]);

const mcpWorkflow = (id: string, path: string, webhookId: string) =>
  chain(id, path, [{ name: 'MCP', type: '@n8n/n8n-nodes-langchain.mcpTrigger', typeVersion: 2, webhookId, parameters: { path } }]);

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
