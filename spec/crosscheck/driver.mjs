// Runs agentkit-min conformance cases (spec/cases/*.json, format in spec/README.md) against the real
// TypeScript @inngest/agent-kit and writes what it observed, for scripts/crosscheck.py to compare.
//
//   node driver.mjs <cases.json (a JSON list of cases)> <observed.json>
//
// It must live next to a node_modules holding @inngest/agent-kit 0.13.2 and zod 4 (crosscheck.py copies
// it into its scratch folder). Models are AgentKit's own `openai(...)` factory; `globalThis.fetch` is
// replaced by a scripted OpenAI Chat Completions fake, so nothing leaves the process. Each case's
// replies (AgentKit messages) are turned into OpenAI response bodies; each request body is recorded
// as sent. Written for agentkit-min; not derived from the shared harness.
import { readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import * as ak from "@inngest/agent-kit";

const [casesPath, outPath] = process.argv.slice(2);
if (!casesPath || !outPath) {
  console.error("usage: node driver.mjs <cases.json> <observed.json>");
  process.exit(2);
}
const plain = (x) => (x === undefined ? null : JSON.parse(JSON.stringify(x)));

// ---- the scripted provider: one per case, installed as globalThis.fetch
let provider = null;
function openaiReply(reply, seq) {
  const texts = reply.filter((m) => m.type === "text").map((m) => (typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join("")));
  if (texts.length > 1) throw new Error("a scripted reply with several text messages has no OpenAI form");
  const calls = reply.filter((m) => m.type === "tool_call").flatMap((m) => m.tools);
  const message = { role: "assistant", content: texts.length ? texts[0] : null, refusal: null };
  if (calls.length) {
    message.tool_calls = calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: JSON.stringify(c.input ?? {}) } }));
  }
  return {
    id: `chatcmpl-fake-${seq}`, object: "chat.completion", created: 1700000000 + seq, model: "fake",
    choices: [{ index: 0, message, logprobs: null, finish_reason: calls.length ? "tool_calls" : "stop" }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}
globalThis.fetch = async (url, init) => {
  const body = JSON.parse(init.body);
  const p = provider;
  p.requests.push({ model: body.model ?? null, body });
  p.trace.push("infer");
  const reply = p.script[p.next++];
  let out;
  if (reply === undefined) out = { error: { message: `script exhausted at request ${p.next}` } };
  else if (!Array.isArray(reply)) out = { error: { message: reply.error } };
  else out = openaiReply(reply, p.next);
  return new Response(JSON.stringify(out), { status: 200, headers: { "content-type": "application/json" } });
};

// ---- building a case
function render(template, data) {
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, k) => {
    if (!data || !(k in data)) return "";
    const v = data[k];
    return typeof v === "string" ? v : JSON.stringify(v);
  });
}
const resultFrom = (r) => new ak.AgentResult(r.agentName, r.output ?? [], r.toolCalls ?? [], new Date(r.createdAt ?? "1970-01-01T00:00:00+00:00"));
const resultJson = (r) => ({ agent_name: r.agentName, output: plain(r.output), tool_calls: plain(r.toolCalls), prompt: plain(r.prompt ?? []), history: plain(r.history ?? []) });

function build(c, rec) {
  const models = new Map();
  const model = (name) => {
    if (name == null) return undefined;
    if (!models.has(name)) models.set(name, ak.openai({ model: name, apiKey: "fake-key", baseUrl: "http://127.0.0.1:9/v1/" }));
    return models.get(name);
  };
  const tool = (owner, t) => {
    const behave = (input, { network }) => {
      rec.tool_invocations.push({ agent: owner, tool: t.name, input: plain(input ?? null) });
      rec.trace.push(`tool:${owner}.${t.name}`);
      for (const [k, v] of Object.entries(t.set_state ?? {})) network.state.data[k] = structuredClone(v);
      if (t.throw) {
        const e = new Error(t.throw.message);
        e.name = t.throw.name ?? "Error";
        throw e;
      }
      return "result" in t ? structuredClone(t.result) : undefined;
    };
    return ak.createTool({
      name: t.name, description: t.description,
      parameters: t.parameters ? z.fromJSONSchema(t.parameters) : undefined,
      handler: t.sync ? behave : async (input, ctx) => behave(input, ctx),
    });
  };
  const lifecycle = (owner, spec = {}) => {
    const hooks = {};
    if ("enabled" in spec) hooks.enabled = () => Boolean(spec.enabled);
    if (spec.on_start) hooks.onStart = ({ prompt, history }) => {
      rec.trace.push(`${owner}.on_start`);
      if (spec.on_start.stop) return { prompt, history, stop: true };
      return { prompt, history: spec.on_start.drop_history ? [] : history, stop: false };
    };
    if (spec.on_response) hooks.onResponse = ({ result }) => {
      rec.trace.push(`${owner}.on_response:${result.toolCalls.length}`);
      if (spec.on_response.drop_tool_calls) result.output = result.output.filter((m) => m.type !== "tool_call");
      return result;
    };
    if (spec.on_finish) hooks.onFinish = ({ result }) => {
      rec.trace.push(`${owner}.on_finish:${result.toolCalls.length}`);
      return result;
    };
    return Object.keys(hooks).length ? hooks : undefined;
  };
  const system = (s) => (typeof s === "string" ? s : async ({ network }) => render(s.template, network?.state?.data));
  const history = (spec, owner) => {
    const record = (hook, threadId, input, extra = {}) => {
      rec.history_calls.push({ owner, hook, thread_id: threadId ?? null, input, ...extra });
      rec.trace.push(`history.${hook}`);
    };
    const h = {};
    if (spec.create_thread) h.createThread = async ({ state, input }) => {
      record("create_thread", state.threadId, input);
      return { threadId: spec.create_thread.thread_id ?? "thread-created" };
    };
    if (spec.get) h.get = async ({ threadId, input }) => {
      record("get", threadId, input);
      return (spec.get.results ?? []).map(resultFrom);
    };
    if (spec.append_user_message) h.appendUserMessage = async ({ threadId, input, userMessage }) => {
      record("append_user_message", threadId, input, { user_message: { id: userMessage.id, content: userMessage.content, role: userMessage.role } });
    };
    if (spec.append_results) h.appendResults = async ({ threadId, input, newResults }) => {
      record("append_results", threadId, input, { new_results: newResults.map((r) => r.agentName) });
    };
    return h;
  };
  const agents = new Map();
  for (const a of c.agents ?? []) {
    let agent = ak.createAgent({
      name: a.name, description: a.description ?? "", system: system(a.system), assistant: a.assistant,
      tool_choice: a.tool_choice, model: model(a.model), tools: (a.tools ?? []).map((t) => tool(a.name, t)),
      lifecycle: lifecycle(a.name, a.lifecycle), history: a.history ? history(a.history, a.name) : undefined,
    });
    if (a.with_model) agent = agent.withModel(model(a.with_model));
    agents.set(a.name, agent);
  }
  const routing = new Map();
  for (const r of c.routing_agents ?? []) {
    routing.set(r.name, ak.createRoutingAgent({
      name: r.name, description: r.description ?? "", system: system(r.system ?? ""), model: model(r.model),
      tools: (r.tools ?? []).map((t) => tool(r.name, t)), tool_choice: r.tool_choice,
      lifecycle: {
        onRoute: ({ result }) => {
          let names;
          if (r.on_route.type === "fixed") names = r.on_route.names;
          else names = result.output.filter((m) => m.type === "text").flatMap((m) => String(m.content).split(",")).map((n) => n.trim()).filter(Boolean);
          rec.trace.push(`${r.name}.on_route:${(names ?? []).join(",")}`);
          return names ?? undefined;
        },
      },
    }));
  }
  const pick = (step) => {
    if (step == null) return undefined;
    if (Array.isArray(step)) return step.map((n) => agents.get(n));
    if (step === "@default") return ak.getDefaultRoutingAgent();
    if (step.startsWith("@routing:")) return routing.get(step.slice(9));
    return agents.get(step);
  };
  const router = (spec) => {
    if (spec == null) return undefined;
    if (spec.type === "routing_agent") return routing.get(spec.name);
    const decide = ({ callCount, lastResult, network }) => {
      switch (spec.type) {
        case "sequence": return callCount < spec.steps.length ? spec.steps[callCount] : null;
        case "always": return spec.agent;
        case "while_tool_calls": return !lastResult || lastResult.toolCalls.length > 0 ? spec.agent : null;
        case "until_state": return network.state.data[spec.key] ? null : spec.agent;
        case "while_results_lt": return network.state.results.length < spec.n ? spec.agent : null;
        default: throw new Error(`unknown router type ${spec.type}`);
      }
    };
    return async (args) => {
      const step = decide(args);
      const um = args.userMessage;
      rec.router_calls.push({
        call_count: args.callCount, input: args.input, stack: args.stack.map((a) => a.name),
        last_result: args.lastResult ? args.lastResult.agentName : null, state_data: plain(args.network.state.data),
        returned: typeof step === "string" && !step.startsWith("@") ? [step] : step,
        user_message: um ? { id: um.id, content: um.content, system_prompt: um.systemPrompt ?? null } : null,
      });
      rec.trace.push(`router:${args.callCount}`);
      return pick(step);
    };
  };
  const state = () => {
    const s = c.state ?? {};
    return ak.createState(structuredClone(s.data ?? {}), {
      messages: structuredClone(s.messages ?? []), results: (s.results ?? []).map(resultFrom), threadId: s.thread_id ?? undefined,
    });
  };
  return { agents, routing, model, router, history, state };
}

function userInput(spec) {
  if (typeof spec === "string") return spec;
  const m = { id: spec.id ?? randomUUID(), content: spec.content, role: "user" };
  if (spec.system_prompt != null) m.systemPrompt = spec.system_prompt;
  return m;
}

// ---- state cases
function runOps(c, b) {
  const states = { s: b.state() };
  const out = [];
  for (const op of c.ops) {
    const t = states[op.on ?? "s"];
    let v = null;
    switch (op.op) {
      case "format_history": v = plain(t.formatHistory()); break;
      case "data": v = plain(t.data); break;
      case "data.set": t.data[op.key] = structuredClone(op.value); break;
      case "thread_id": v = t.threadId ?? null; break;
      case "results": v = t.results.map((r) => r.agentName); break;
      case "append_result": t.appendResult(resultFrom(op.result)); break;
      case "clone": states[op.as] = t.clone(); break;
      case "export": v = plain(t.results[op.index].export()); break;
      case "checksum_stable": { const r = t.results[op.index]; v = { first: r.checksum, second: r.checksum }; break; }
      default:
        if (op.op.startsWith("kv.")) {
          const args = ["key", "value"].filter((k) => k in op).map((k) => op[k]);
          v = plain(t.kv[op.op.slice(3)](...args));
        } else throw new Error(`op ${op.op} has no TS form`);
    }
    out.push(v);
  }
  return out;
}

// ---- running a case
async function runCase(c) {
  const rec = { trace: [], router_calls: [], tool_invocations: [], history_calls: [], events: [] };
  provider = { script: structuredClone(c.script ?? []), next: 0, requests: [], trace: rec.trace };
  const b = build(c, rec);
  const observed = { error: null };
  if (c.mode === "state") {
    observed.ops = runOps(c, b);
    return observed;
  }
  const run = c.run ?? {};
  const streaming = run.publish ? { publish: async (chunk) => { rec.events.push(plain(chunk)); } } : undefined;
  const state = b.state();
  let final = state;
  try {
    if (c.mode === "agent") {
      const agent = b.agents.get(c.agents[0].name);
      const r = await agent.run(userInput(run.input ?? ""), { state, maxIter: run.max_iter ?? 0, model: b.model(run.model), streaming });
      observed.returned_result = resultJson(r);
    } else {
      const how = run.state ?? "instance";
      const n = c.network ?? {};
      const members = (n.members ?? (c.agents ?? []).map((a) => a.name)).map((name) => b.agents.get(name));
      const network = ak.createNetwork({
        name: n.name ?? "conformance", agents: members, defaultModel: b.model(n.default_model),
        router: b.router(n.router), defaultRouter: "default_router" in n ? b.router(n.default_router) : undefined,
        maxIter: n.max_iter ?? 0, defaultState: how === "default" ? state : undefined,
        history: n.history ? b.history(n.history, "network") : undefined,
      });
      const opts = { streaming };
      if ("router" in run) opts.router = b.router(run.router);
      if ("default_router" in run) opts.defaultRouter = b.router(run.default_router);
      if (how === "instance") opts.state = state;
      if (how === "json") opts.state = JSON.parse(JSON.stringify(state));
      try {
        const r = await network.run(userInput(run.input ?? ""), opts);
        final = r.state;
        observed.network_counter = r._counter;
      } finally {
        observed.default_state_data = plain(network.state.data);
        observed.caller_state_data = plain(state.data);
      }
    }
  } catch (e) {
    observed.error = { name: e?.name ?? null, message: e?.message ?? String(e) };
    final = state;
  }
  Object.assign(observed, {
    requests: provider.requests, router_calls: rec.router_calls, tool_invocations: rec.tool_invocations,
    history_calls: rec.history_calls, trace: rec.trace, events: rec.events,
    results: final.results.map(resultJson), state_data: plain(final.data), thread_id: final.threadId ?? null,
    script_unused: Math.max(provider.script.length - provider.next, 0),
  });
  return observed;
}

const cases = JSON.parse(readFileSync(casesPath, "utf8"));
const out = {};
for (const c of cases) {
  try {
    out[c.id] = await runCase(c);
  } catch (e) {
    out[c.id] = { driver_error: `${e?.name}: ${e?.message}` };
  }
}
writeFileSync(outPath, JSON.stringify(out, null, 1) + "\n");
