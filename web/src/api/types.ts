// Shapes the gateway answers (notes/sql_api_for_gateway.md).
export type ExecStatus = 'pending' | 'running' | 'success' | 'error' | 'suspended' | 'cancelled';
export type NodeStatus = 'running' | 'success' | 'error' | 'skipped' | 'waiting' | 'pending';

export interface FlowNodeJson {
  id: string;
  type: string;
  position: { x: number; y: number };
  data: Record<string, unknown>;
}
export interface FlowEdgeJson {
  id: string;
  source: string;
  target: string;
  sourceHandle?: string | null;
  targetHandle?: string | null;
}

export interface LatestExecution {
  id: string;
  status: ExecStatus;
  started_at: string | null;
  completed_at: string | null;
  current_step: number;
  total_steps: number;
}

export interface Pipeline {
  id: string;
  name: string;
  description: string | null;
  is_active: boolean;
  status: 'draft' | 'active' | 'archived';
  trigger_type: string;
  visibility: string;
  version: number;
  published_version: number;
  created_at: string;
  updated_at: string;
  latest_execution: LatestExecution | null;
  execution_count: number;
  successful_count: number;
  failed_count: number;
}

export interface ExecutionRow {
  id: string;
  status: ExecStatus;
  trigger_type: string;
  started_at: string | null;
  completed_at: string | null;
  duration_ms: number | null;
  total_cost: number | null;
  total_tokens: number | null;
  error: { code?: string; message?: string; nodeId?: string } | string | null;
  error_code: string | null;
  error_node_id: string | null;
}

export interface PipelineDetail extends Pipeline {
  nodes: FlowNodeJson[];
  edges: FlowEdgeJson[];
  tags: string[] | null;
  runAs: string | null;
  workspace_id: string | null;
  webhook: { published: boolean; url: string };
  executions: ExecutionRow[];
}

export interface PipelineList {
  pipelines: Pipeline[];
  meta: { total: number; running: number; limit: number; offset: number };
}

export interface Template {
  id: string;
  name: string;
  description: string | null;
  category: string;
  complexity: string | null;
  tags: string[] | null;
  starter_kit: boolean;
  is_featured: boolean;
  download_count: number;
  nodes: FlowNodeJson[];
  edges: FlowEdgeJson[];
  node_count: number;
}

export interface NodeType {
  type: string;
  category: string;
  label: string;
  description: string | null;
  handles: string[];
  configSchema: JsonSchema;
  costModel: unknown;
  builtin: boolean;
}

export interface JsonSchema {
  type?: string | string[];
  required?: string[];
  properties?: Record<string, JsonSchema>;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  items?: JsonSchema;
  format?: string;
  minimum?: number;
  maximum?: number;
}

export interface NodeLog {
  id: string;
  nodeId: string;
  nodeType: string;
  nodeName: string | null;
  status: NodeStatus;
  input: unknown;
  output: unknown;
  error: { code?: string; message?: string } | string | null;
  errorCode: string | null;
  handle: string | null;
  iteration: number | null;
  attempts: number | null;
  seq: number;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  tokensUsed: number | null;
  costUsd: number | null;
}

export interface ExecutionLogs {
  executionId: string;
  workflowId: string;
  status: ExecStatus;
  logs: NodeLog[];
}

export interface ExecutionContext {
  executionId: string;
  workflowId: string;
  workflowVersion: number;
  status: ExecStatus;
  mode: string;
  triggerType: string;
  isTest: boolean;
  input: unknown;
  output: unknown;
  error: { code?: string; message?: string; nodeId?: string } | null;
  errorCode: string | null;
  errorNodeId: string | null;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  totalCost: number | null;
  totalTokens: number | null;
  waiting: { executionId: string; nodeId: string; kind: string; approvalId: string | null }[];
}

export interface Approval {
  id: string;
  executionId: string;
  workflowId: string;
  workflowName: string;
  nodeId: string;
  status: string;
  title: string;
  message: string | null;
  contextData: unknown;
  previewData: unknown;
  assignedUserId: string | null;
  onExpire: string | null;
  createdAt: string;
  expiresAt: string | null;
}

export interface VersionRow {
  version: number;
  name: string;
  createdBy: string;
  createdAt: string;
  message: string | null;
  published: boolean;
}

export interface VersionGraph extends VersionRow {
  workflowId: string;
  nodes: FlowNodeJson[];
  edges: FlowEdgeJson[];
}

export interface ValidationResult {
  valid: boolean;
  errors: { code: string; nodeId?: string; edgeId?: string; field?: string; message: string }[];
}

export interface LiveEvent {
  event: string;
  executionId: string;
  workflowId: string;
  seq?: number;
  nodeId?: string | null;
  nodeType?: string;
  status?: string;
  durationMs?: number;
  ts?: string;
  output?: unknown;
  text?: string;
  delta?: string;
  reason?: string;
  error?: unknown;
  [k: string]: unknown;
}

export interface AnalyticsDay {
  day: string;
  workflow_id: string;
  workflow_name: string | null;
  executions: number;
  successes: number;
  errors: number;
  cancelled: number;
  success_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  tokens: number;
  cost_usd: number;
}
export interface Analytics {
  range: { from: string; to: string };
  totals: Omit<AnalyticsDay, 'day' | 'workflow_id' | 'workflow_name'>;
  daily: AnalyticsDay[];
  slowest_nodes: { workflow_id: string; node_id: string; node_type: string; runs: number; p95_ms: number; avg_ms: number }[];
  failing_nodes: { workflow_id: string; node_id: string; node_type: string; runs: number; errors: number; error_rate: number }[];
}
