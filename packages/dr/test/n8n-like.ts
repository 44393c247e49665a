/**
 * A database shaped like n8n's (its core tables and column names, as n8n's migrations create them), with
 * rows of every kind that can go wrong in a dump: JSON, long texts, NULLs, quotes, non-ASCII, time zones.
 * The end-to-end test with the real n8n covers n8n's full schema; this one keeps the database tests fast.
 */
export const N8N_LIKE_SCHEMA = `
create table migrations (id serial primary key, timestamp bigint not null, name varchar not null);
create table "user" (id uuid primary key, email varchar(255) unique, "firstName" varchar(32), "createdAt" timestamptz(3) not null default now());
create table settings (key varchar(255) primary key, value text not null, "loadOnStartup" boolean not null default false);
create table workflow_entity (id varchar(36) primary key, name varchar(128) not null, active boolean not null, nodes json not null, connections json not null, "createdAt" timestamptz(3) not null default now(), "updatedAt" timestamptz(3) not null default now());
create table credentials_entity (id varchar(36) primary key, name varchar(128) not null, data text not null, type varchar(128) not null, "createdAt" timestamptz(3) not null default now());
create table execution_entity (id serial primary key, "workflowId" varchar(36) references workflow_entity(id) on delete cascade, finished boolean not null, mode varchar not null, status varchar, "startedAt" timestamptz(3), "stoppedAt" timestamptz(3));
create table execution_data ("executionId" int primary key references execution_entity(id) on delete cascade, "workflowData" json not null, data text not null);
create index idx_execution_started on execution_entity ("startedAt");
`;

/** Rows: `executions` finished executions, the newest `newestMinutesAgo` minutes before now. */
export function n8nLikeRows(executions: number, newestMinutesAgo: number): string {
  return `
insert into migrations (timestamp, name) select 1587669153312 + g, 'Migration' || g from generate_series(1, 120) g;
insert into "user" values ('8c0e3e2a-6d5f-4b8a-9e0d-1a2b3c4d5e6f', 'owner@pi.home.arpa', 'Zoë', now());
insert into settings values ('userManagement.isInstanceOwnerSetUp', 'true', true), ('features.ldap', '{"loginEnabled":false}', true);
insert into workflow_entity (id, name, active, nodes, connections) select 'wf' || g, 'Workflow «' || g || '» it''s', g % 2 = 0, ('[{"name":"Webhook","type":"n8n-nodes-base.webhook","parameters":{"path":"p' || g || '"}}]')::json, '{}'::json from generate_series(1, 12) g;
insert into credentials_entity (id, name, data, type) select 'cred' || g, 'Credential ' || g, 'U2FsdGVkX1' || md5(g::text) || repeat('x', 200), 'httpHeaderAuth' from generate_series(1, 4) g;
insert into execution_entity ("workflowId", finished, mode, status, "startedAt", "stoppedAt") select 'wf' || (1 + g % 12), true, 'webhook', case when g % 10 = 0 then 'error' else 'success' end, now() - make_interval(mins => ${newestMinutesAgo} + (${executions} - g) * 7), now() - make_interval(mins => ${newestMinutesAgo} + (${executions} - g) * 7) + interval '2 seconds' from generate_series(1, ${executions}) g;
insert into execution_data select id, '{"nodes":[]}'::json, repeat('{"json":{"ok":true,"text":"ünïcödé \\\\ \\"quoted\\""}}', 50) from execution_entity;
`;
}
