// The page's behaviour: read a code as it is typed and refuse a wrong check character before any
// request; ask the node (GET /v1/verify/{code}); fetch the proof bundle and check it on this
// device (verifier.mjs); fingerprint a chosen file in the browser; scan a QR; the court view with
// an organisation key. Every text comes from the message files (i18n.mjs); rendering is a pure
// function of `state`, so switching the language redraws everything as it is.
import { grouped, readCode } from "./code.mjs";
import { importOrganisationKey, signatureHeaders } from "./court.mjs";
import { base64Decode, base64Encode, hexEncode } from "./encoding.mjs";
import { applyMessages, has, language, languages, preferredLanguage, t, useLanguage } from "./i18n.mjs";
import { crossCheckAnswer, decodeHashes, sha256, verifyBundle, verifyConsistency } from "./verifier.mjs";

/** The largest file fingerprinted in the browser: WebCrypto hashes one buffer, held in memory. */
const MAX_FILE_BYTES = 1024 * 1024 * 1024;

const state = {
  generation: 0, // bumped by every new check, so a late answer to an older one is dropped
  code: null, // the 16 characters last checked
  answer: null, // GET /v1/verify answer
  failure: null, // { kind: not_found | rate | network | server, detail, seconds }
  loading: false,
  proof: "idle", // idle | checking | ok | partial | failed | nocrypto | unreachable
  report: null, // verifier report (bundle checks + answer checks)
  file: null, // { name, size, status: hashing | done | toolarge | nocrypto, digest, lookup }
  org: null, // the organisation key, in memory only
  orgError: null,
  court: null, // { status: loading | ok | error, body, error }
  clockOffsetSeconds: 0,
  checksOpen: false, // whether the list of checks is unfolded
};

const $ = (id) => document.getElementById(id);

/** A DOM element with attributes and children (text is always set as text, never as HTML). */
function el(tag, attributes = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

/** Unix milliseconds as `YYYY-MM-DD HH:MM:SS` in China Standard Time, with the zone named by the message file. */
function formatTime(millis) {
  const iso = new Date(millis + 8 * 3600 * 1000).toISOString();
  return t("time.cst", { time: `${iso.slice(0, 10)} ${iso.slice(11, 19)}` });
}

/** An RFC 3339 time with offset (as the node writes them) as formatTime does. */
function formatTimestamp(text) {
  const millis = Date.parse(text);
  return Number.isNaN(millis) ? text : formatTime(millis);
}

/** A message if the file has one for this value, else the value itself (codes stay readable). */
function label(prefix, value) {
  return has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : value;
}

// MARK: - Talking to the node

/** GET or POST JSON; waits out one 429 (Retry-After) and tells the page while it waits. */
async function request(path, { method = "GET", body, headers = {}, onWait } = {}) {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(path, {
      method, headers: body ? { "Content-Type": "application/json", ...headers } : headers,
      body: body ? JSON.stringify(body) : undefined, cache: "no-store",
    });
    const date = Date.parse(response.headers.get("date") || "");
    if (!Number.isNaN(date)) state.clockOffsetSeconds = (date - Date.now()) / 1000;
    if (response.status === 429 && attempt < 2) {
      const seconds = Math.min(Number(response.headers.get("retry-after")) || 1, 30);
      if (onWait) onWait(seconds);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      continue;
    }
    const type = response.headers.get("content-type") || "";
    const json = type.includes("json") ? await response.json().catch(() => null) : null;
    return { status: response.status, json, problem: type.startsWith("application/problem+json") ? json : null };
  }
}

// MARK: - Check by code

function showFeedback(input) {
  const field = $("code");
  const out = $("code-feedback");
  const { value, error } = readCode(input, { partial: true });
  out.className = "feedback";
  field.removeAttribute("aria-invalid");
  if (input.trim() === "" || (value === "" && !error)) {
    out.textContent = "";
    return;
  }
  if (error) {
    out.className = "feedback error";
    field.setAttribute("aria-invalid", "true");
    let text = t(`code.error.${error.code}`, error);
    if (error.suggestion) text += ` ${t("code.error.suggestion", error)}`;
    out.textContent = text;
    return;
  }
  const kind = t("code.kind", { letter: value[0], kind: t(`kind.${value[0]}`) });
  if (value.length < 16) {
    out.textContent = `${t("code.progress", { count: value.length, code: grouped(value) })} · ${kind}`;
  } else {
    out.className = "feedback ok";
    out.textContent = `${t("code.wellformed", { code: grouped(value) })} · ${kind}`;
  }
}

/** Checks `input` as a code: refused on this device if malformed, else asked of the node and proved here. */
async function check(input, { focusAnswer = true } = {}) {
  const { value, error } = readCode(input);
  if (error) {
    showFeedback(input);
    if (input.trim() === "") {
      $("code-feedback").className = "feedback error";
      $("code-feedback").textContent = t("code.error.empty");
    }
    $("code").focus();
    return; // nothing is sent for a code that cannot be right
  }
  $("code").value = grouped(value);
  showFeedback(value);
  const generation = ++state.generation;
  Object.assign(state, { code: value, answer: null, failure: null, loading: true, proof: "idle", report: null, court: null });
  renderAnswer();
  renderCourt();
  let reply;
  try {
    reply = await request(`/v1/verify/${value}`, {
      onWait: (seconds) => { if (generation === state.generation) { state.failure = { kind: "rate", seconds }; renderAnswer(); } },
    });
  } catch {
    reply = null;
  }
  if (generation !== state.generation) return;
  state.loading = false;
  state.failure = null;
  if (!reply) state.failure = { kind: "network" };
  else if (reply.status === 200 && reply.json) state.answer = reply.json;
  else if (reply.status === 404 && reply.problem && reply.problem.code === "NOT_FOUND") state.failure = { kind: "not_found" };
  else if (reply.status === 429) state.failure = { kind: "rate", seconds: 0 };
  else state.failure = { kind: "server", detail: (reply.problem && reply.problem.detail) || `HTTP ${reply.status}` };
  renderAnswer();
  renderFile();
  renderCourt();
  if (focusAnswer) $("answer").focus();
  if (state.answer) await proveOnThisDevice(generation);
}

/** Fetches the bundle and checks it here; then the answer against it; then the log against what this device saw before. */
async function proveOnThisDevice(generation) {
  if (!globalThis.crypto || !globalThis.crypto.subtle) {
    state.proof = "nocrypto";
    renderAnswer();
    return;
  }
  state.proof = "checking";
  renderAnswer();
  let report = null;
  try {
    const reply = await request(`/v1/bundles/${state.code}`);
    if (reply.status === 200 && reply.json) {
      report = await verifyBundle(reply.json);
      if (!report.failure) crossCheckAnswer(state.answer, report);
      if (!report.failure && report.signaturesChecked) await checkConsistency(report);
    }
  } catch {
    report = null;
  }
  if (generation !== state.generation) return;
  state.report = report;
  state.proof = !report ? "unreachable" : report.failure ? "failed" : report.ok ? "ok" : "partial";
  renderAnswer();
  renderFile();
  renderCourt();
}

/**
 * RFC 9162 §2.1.4 between the checkpoint this device last accepted for the log and this one: a
 * log that rewrote its history cannot show both (the page keeps the last checkpoint it verified).
 */
async function checkConsistency(report) {
  const cp = report.checkpoint;
  const key = `cinnabar.checkpoint:${cp.origin}`;
  let seen = null;
  try {
    seen = JSON.parse(localStorage.getItem(key) || "null");
  } catch {
    seen = null;
  }
  const remember = () => {
    try { localStorage.setItem(key, JSON.stringify({ size: cp.size.toString(), root: base64Encode(cp.root) })); } catch { /* not kept */ }
  };
  const oldRoot = seen && base64Decode(seen.root);
  if (!seen || !oldRoot || !/^[0-9]+$/.test(seen.size)) { remember(); return; }
  const oldSize = BigInt(seen.size);
  const add = (ok, detail) => report.checks.push({ id: "consistency", ok, detail, args: { from: seen.size, to: cp.size.toString() } });
  try {
    const [from, fromRoot, to, toRoot] = oldSize <= cp.size ? [oldSize, oldRoot, cp.size, cp.root] : [cp.size, cp.root, oldSize, oldRoot];
    let proof = [];
    if (from !== to && from !== 0n) {
      const reply = await request(`/v1/proofs/consistency?from=${from}&to=${to}`);
      if (reply.status !== 200 || !reply.json) return; // cannot fetch it now: no claim either way
      proof = decodeHashes(reply.json.consistency_proof, "consistency_proof");
    }
    await verifyConsistency(from, fromRoot, to, toRoot, proof);
    add(true, `the tree of size ${from} is a prefix of the tree of size ${to}`);
    if (cp.size > oldSize) remember();
  } catch (e) {
    add(false, `${e.code || "error"}: ${e.message}`);
  }
  report.failure = report.checks.find((c) => c.ok === false) || null;
  report.ok = report.failure === null && report.checks.every((c) => c.ok === true);
}

// MARK: - Rendering the answer

const TONE = {
  VALID: "good", VALID_CORRECTED: "good", EVIDENCE: "good", SUPERSEDED: "caution", SUSPENDED: "caution",
  NOT_ENFORCEABLE: "caution", REVOKED: "bad", EXPIRED: "bad", NOT_FOUND: "bad", CASE: "neutral",
};

/** The status shown: the document status, or what kind of record it is for evidence and cases. */
function shownStatus(answer) {
  if (answer.kind === "EVIDENCE_DEPOSITED") return "EVIDENCE";
  if (answer.kind === "CASE_OPENED") return "CASE";
  return answer.result;
}

function issuerText(answer) {
  return answer.issuer_name ? t("fact.usci", { name: answer.issuer_name, org: answer.issuer }) : answer.issuer;
}

/** The verified entries' records (empty until the proof checked out). */
function provenEntries() {
  return state.report && !state.report.failure ? state.report.entries : [];
}

/** The renditions recorded for the code in proven records: the document's, then its corrections'. */
function provenRenditions() {
  return provenEntries().flatMap((e) => {
    const p = e.record.payload || {};
    const renditions = Array.isArray(p.renditions) ? p.renditions : [];
    const digests = Array.isArray(p.content_digests) ? p.content_digests.filter((d) => d.alg === "sha256").map((d) => ({ sha256: d.value })) : [];
    return [...renditions, ...digests].filter((r) => typeof r.sha256 === "string");
  });
}

function renditionText(r) {
  if (!r.role) return t("rendition.file");
  return t("rendition", { role: label("role", r.role), lang: label("lang", r.lang || ""), format: r.format || "" });
}

function explanation(answer, status) {
  const logged = answer.receipt && answer.receipt.logged_at ? formatTimestamp(answer.receipt.logged_at) : "";
  if (status === "REVOKED") {
    const revocation = (answer.history || []).find((h) => h.type === "DOCUMENT_REVOKED");
    const date = revocation ? revocation.date : "";
    if (answer.void_ab_initio) return t("status.REVOKED.void", { date });
    if (answer.revoked_from) return t("status.REVOKED.from", { date, from: answer.revoked_from });
    return t("status.REVOKED.explain", { date });
  }
  if (status === "EXPIRED") return t("status.EXPIRED.explain", { date: answer.valid_until || "" });
  return t(`status.${has(`status.${status}.explain`) ? status : "OTHER"}.explain`, { issuer: answer.issuer_name || answer.issuer, time: logged });
}

function renderStatus(status, text) {
  // An answer whose proof failed here is shown as the server's unconfirmed word, never in green.
  const unconfirmed = state.proof === "failed";
  return el("div", { class: `status ${unconfirmed ? "bad" : TONE[status] || "neutral"}`, "data-result": status, "data-confirmed": String(!unconfirmed) },
    unconfirmed ? el("p", { class: "unconfirmed" }, el("strong", {}, t("status.unconfirmed"))) : null,
    el("p", { class: "word" }, label("status", status), el("span", { class: "machine", lang: "en" }, status)),
    el("p", {}, text));
}

function renderProof() {
  const box = el("div", { class: "proof", id: "proof", "data-state": state.proof });
  box.append(el("h3", {}, t("proof.heading")));
  const report = state.report;
  if (state.proof === "checking" || state.proof === "idle") box.append(el("p", {}, t("proof.checking")));
  else if (state.proof === "nocrypto") box.append(el("p", {}, t("proof.nocrypto")));
  else if (state.proof === "unreachable") box.append(el("p", {}, t("proof.unreachable")));
  else if (state.proof === "failed") {
    box.setAttribute("data-failed-check", report.failure.id);
    box.append(el("p", {}, t("proof.failed", { check: t(`check.${report.failure.id}`, report.failure.args) })));
  } else {
    const s = report.signatures;
    box.append(el("p", {}, state.proof === "ok" ? t("proof.ok", { signed: s.signedMembers, total: s.members, required: s.required }) : t("proof.partial")));
    const subject = report.entries[0];
    if (subject) box.append(el("p", {}, t("proof.ok.time", { height: subject.blockHeight, time: formatTime(subject.loggedAtMillis), index: subject.leafIndex })));
  }
  if (report) {
    const list = el("ul", {});
    for (const c of report.checks) {
      const verdict = c.ok === true ? t("proof.pass") : c.ok === false ? t("proof.fail") : t("proof.skip");
      list.append(el("li", { "data-check": c.id, "data-ok": String(c.ok) }, `${t(`check.${c.id}`, c.args)}: ${verdict}`,
        c.ok === false ? el("span", { class: "detail mono", lang: "en" }, ` (${c.detail})`) : null));
    }
    if (report.checkpoint) {
      list.append(el("li", { class: "detail" }, t("proof.checkpoint", { origin: report.checkpoint.origin, size: report.checkpoint.size.toString(), root: base64Encode(report.checkpoint.root) })));
    }
    const details = el("details", { open: state.checksOpen }, el("summary", {}, t("proof.details")), list);
    details.addEventListener("toggle", () => { state.checksOpen = details.open; });
    box.append(details);
  }
  return box;
}

function renderFacts(answer, status) {
  const facts = el("dl", { class: "facts" });
  const add = (key, ...value) => facts.append(el("dt", {}, t(`fact.${key}`)), el("dd", {}, ...value));
  add("code", el("span", { class: "mono" }, answer.code));
  if (answer.document_type) add("document_type", label("doctype", answer.document_type));
  else add("kind", label("kind", answer.code[0]));
  if (answer.document_number) add("document_number", answer.document_number);
  add(status === "EVIDENCE" ? "depositor" : "issuer", issuerText(answer));
  if (answer.issued_at) add("issued_at", answer.issued_at);
  if (answer.valid_until) add("valid_until", answer.valid_until);
  if (answer.holder) add("holder", answer.holder);
  const subject = provenEntries()[0];
  const loggedAt = subject ? formatTime(subject.loggedAtMillis) : answer.receipt && answer.receipt.logged_at ? formatTimestamp(answer.receipt.logged_at) : null;
  if (loggedAt) add(status === "EVIDENCE" ? "deposited_at" : "logged_at", loggedAt);
  const replacement = replacedBy();
  if (replacement) add("replaced_by", replacement);
  const renditions = provenRenditions();
  if (renditions.length > 0) add("files", el("ul", { class: "history" }, renditions.map((r) => el("li", {}, renditionText(r), " ", el("span", { class: "mono" }, r.sha256.slice(0, 16) + "…")))));
  else if ((answer.sha256 || []).length > 0) add("files", answer.sha256.map((d) => el("div", { class: "mono" }, d)));
  return facts;
}

/** For a superseded document, the number of the one that replaced it, read from the proven records. */
function replacedBy() {
  const entries = provenEntries();
  const subject = entries[0];
  if (!subject) return null;
  for (const e of entries) {
    if (e.record.type !== "DOCUMENT_SUPERSEDED") continue;
    const refs = e.record.refs || [];
    if (!refs.some((r) => r.rel === "old" && r.record_id === subject.recordID)) continue;
    const next = refs.find((r) => r.rel === "new");
    const doc = next && entries.find((x) => x.recordID === next.record_id);
    if (doc && doc.record.payload && doc.record.payload.doc_number) return doc.record.payload.doc_number;
  }
  return null;
}

function renderHistory(answer) {
  const items = (answer.history || []).map((h) => el("li", { "data-event": h.type },
    t("history.item", { date: h.date, event: label("event", h.type) }),
    h.decision_number ? `, ${t("history.decision", { number: h.decision_number })}` : ""));
  return [el("h3", {}, t("history.heading")), items.length ? el("ol", { class: "history" }, items) : el("p", {}, t("history.none"))];
}

/** One sentence for screen readers (the live region), said when an answer or its proof check settles. */
function announce() {
  let text = "";
  if (state.failure && state.failure.kind === "not_found") text = t("status.NOT_FOUND");
  else if (state.failure && state.failure.kind === "network") text = t("answer.error.network");
  else if (state.answer && !["idle", "checking"].includes(state.proof)) {
    const word = label("status", shownStatus(state.answer));
    const proof = state.proof === "failed" ? t("status.unconfirmed") : state.proof === "ok"
      ? t("proof.ok", { signed: state.report.signatures.signedMembers, total: state.report.signatures.members }) : t(`proof.${state.proof}`);
    text = `${word}. ${proof}`;
  }
  if ($("announce").textContent !== text) $("announce").textContent = text;
}

function renderAnswer() {
  announce();
  const box = $("answer");
  box.replaceChildren();
  if (!state.code) {
    box.append(el("p", { class: "placeholder" }, t("answer.placeholder")));
    return;
  }
  box.append(el("div", { class: "report-only report-head" },
    el("div", {}, el("h2", {}, t("report.heading")), el("p", {}, t("report.printed", { time: formatTime(Date.now()), host: location.host }))),
    el("img", { class: "report-qr", src: `/v1/qr/${state.code}.svg`, alt: t("report.qr", { code: grouped(state.code) }) })));
  box.append(el("h2", { id: "answer-heading" }, t("answer.heading", { code: grouped(state.code) })));
  if (state.failure && state.failure.kind === "rate") {
    box.append(el("p", { class: "feedback error" }, t("answer.error.rate", { seconds: state.failure.seconds })));
    if (!state.answer) return;
  }
  if (state.loading) {
    box.append(el("p", {}, t("answer.loading", { code: grouped(state.code) })));
    return;
  }
  if (state.failure && state.failure.kind === "not_found") {
    box.append(renderStatus("NOT_FOUND", t("status.NOT_FOUND.explain")));
    return;
  }
  if (state.failure) {
    box.append(el("p", { class: "feedback error" }, state.failure.kind === "network" ? t("answer.error.network") : t("answer.error.server", { detail: state.failure.detail })));
    return;
  }
  const answer = state.answer;
  const status = shownStatus(answer);
  box.append(renderStatus(status, explanation(answer, status)));
  box.append(renderProof());
  box.append(renderFacts(answer, status));
  box.append(...renderHistory(answer));
  box.append(el("div", { class: "caveat" }, el("h3", {}, t("caveat.heading")), el("p", {}, t("caveat.proves")), el("p", {}, el("strong", {}, t("caveat.not")))));
  const print = el("button", { type: "button", class: "secondary", id: "print" }, t("actions.print"));
  print.addEventListener("click", () => window.print());
  box.append(el("div", { class: "actions" },
    el("a", { class: "button secondary", href: `/v1/bundles/${state.code}`, download: `${state.code}.cinnabar-bundle.json`, id: "bundle" }, t("actions.bundle")), print));
}

// MARK: - Check a file

async function checkFile(file) {
  state.file = { name: file.name, size: file.size, status: "hashing" };
  renderFile();
  if (!globalThis.crypto || !globalThis.crypto.subtle) { state.file.status = "nocrypto"; renderFile(); return; }
  if (file.size > MAX_FILE_BYTES) { state.file.status = "toolarge"; renderFile(); return; }
  const digest = hexEncode(await sha256(new Uint8Array(await file.arrayBuffer())));
  state.file = { name: file.name, size: file.size, status: "done", digest, lookup: null };
  if (!state.answer) {
    // No code shown: ask the node which records name this fingerprint (the digest, never the file, is sent).
    try {
      const reply = await request("/v1/verify", { method: "POST", body: { sha256: digest } });
      if (reply.status === 200 && reply.json) state.file.lookup = { status: "ok", body: reply.json };
      else if (reply.problem && reply.status !== 405) state.file.lookup = { status: "error", detail: reply.problem.detail };
      else state.file.lookup = { status: "unavailable" };
    } catch {
      state.file.lookup = { status: "error", detail: t("answer.error.network") };
    }
  }
  renderFile();
}

function renderFile() {
  const box = $("file-result");
  box.replaceChildren();
  const f = state.file;
  if (!f) return;
  if (f.status === "hashing") { box.append(el("p", {}, t("file.hashing", { name: f.name }))); return; }
  if (f.status === "nocrypto") { box.append(el("p", { class: "feedback error" }, t("proof.nocrypto"))); return; }
  if (f.status === "toolarge") { box.append(el("p", { class: "feedback error" }, t("file.toolarge", { size: Math.round(f.size / 1048576) }))); return; }
  box.append(el("p", {}, t("file.digest", { name: f.name }), " ", el("span", { class: "mono", id: "file-digest" }, f.digest)));
  if (state.answer) {
    const inAnswer = (state.answer.sha256 || []).map((d) => d.toLowerCase()).includes(f.digest);
    const rendition = provenRenditions().find((r) => r.sha256.toLowerCase() === f.digest);
    let verdict, key, params = {};
    if (rendition) { verdict = "match"; key = "file.match"; params = { what: renditionText(rendition), code: grouped(state.code) }; }
    else if (inAnswer) { verdict = "match-unproven"; key = "file.match.unverified"; }
    else { verdict = "nomatch"; key = "file.nomatch"; params = { code: grouped(state.code) }; }
    box.append(el("p", { class: `status ${verdict === "match" ? "good" : verdict === "nomatch" ? "bad" : "caution"}`, "data-file": verdict }, t(key, params)));
    return;
  }
  const lookup = f.lookup;
  if (!lookup) return;
  if (lookup.status === "unavailable") box.append(el("p", { class: "status caution", "data-file": "unavailable" }, t("file.lookup.unavailable")));
  else if (lookup.status === "error") box.append(el("p", { class: "status caution", "data-file": "error" }, t("answer.error.server", { detail: lookup.detail })));
  else if (!lookup.body.matched || !(lookup.body.matches || []).length) box.append(el("p", { class: "status bad", "data-file": "nomatch" }, t("file.lookup.nomatch")));
  else {
    box.append(el("p", { class: "status good", "data-file": "match" }, t("file.lookup.match", { count: lookup.body.matches.length })));
    const list = el("ul", {});
    for (const m of lookup.body.matches) {
      // A fingerprint never yields a code (the code index is keyed); a code comes with the match only if it was asked.
      const kind = m.document_type ? label("doctype", m.document_type) : label("kind", m.kind === "EVIDENCE_DEPOSITED" ? "E" : "N");
      const item = el("li", {}, t("file.lookup.item", { kind, number: m.document_number || "", issuer: m.issuer_name || m.issuer, result: label("status", m.result) }),
        m.rendition ? ` — ${renditionText(m.rendition)}` : "", m.current === false ? t("file.lookup.replaced") : "");
      if (m.code) {
        const open = el("button", { type: "button", class: "secondary" }, t("file.lookup.open", { code: m.code }));
        open.addEventListener("click", () => { $("code").value = m.code; check(m.code); });
        item.append(" ", open);
      }
      list.append(item);
    }
    box.append(list);
    box.append(el("p", { class: "note" }, t("file.lookup.nocode")));
  }
}

// MARK: - QR scanning (BarcodeDetector where the browser has it)

let scanStream = null;

async function startScan() {
  stopScan(); // a second press must not leave the first camera stream running
  $("scan-note").textContent = t("scan.looking");
  try {
    scanStream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch {
    $("scan-note").textContent = t("scan.denied");
    return;
  }
  const video = $("scan-video");
  video.srcObject = scanStream;
  $("scanner").hidden = false;
  let detector;
  try {
    await video.play();
    detector = new globalThis.BarcodeDetector({ formats: ["qr_code"] });
  } catch {
    stopScan();
    $("scan-note").textContent = t("scan.unsupported");
    return;
  }
  while (scanStream) {
    try {
      const codes = await detector.detect(video);
      const url = codes.map((c) => c.rawValue).find((v) => /\/V\/[0-9A-Za-z-]+$/i.test(v));
      if (url) {
        stopScan();
        const code = url.slice(url.toUpperCase().lastIndexOf("/V/") + 3);
        $("code").value = code;
        await check(code);
        return;
      }
    } catch {
      // A frame that could not be read: try the next one.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function stopScan() {
  if (scanStream) for (const track of scanStream.getTracks()) track.stop();
  scanStream = null;
  $("scanner").hidden = true;
  $("scan-note").textContent = "";
}

function renderScan() {
  const supported = "BarcodeDetector" in globalThis && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  $("scan").hidden = !supported;
  if (!supported) $("scan-note").textContent = t("scan.unsupported");
}

// MARK: - Court and organisation view

async function signIn(file) {
  state.org = null;
  state.orgError = null;
  try {
    state.org = await importOrganisationKey(await file.text());
  } catch (e) {
    state.orgError = e.code === "ed25519_unavailable" ? t("court.nosign") : t("court.badkey", { detail: e.message });
  }
  $("keyfile").value = ""; // the file is read; nothing of it stays in the form
  renderCourt();
}

async function loadHistory() {
  if (!state.org || !state.code) return;
  const path = state.code[0] === "K" ? `/v1/cases/${state.code}` : `/v1/history/${state.code}`;
  state.court = { status: "loading" };
  renderCourt();
  try {
    const headers = await signatureHeaders(state.org, "GET", path, state.clockOffsetSeconds);
    const reply = await request(path, { headers });
    if (reply.status === 200 && reply.json) state.court = { status: "ok", body: reply.json };
    else if (reply.problem) state.court = { status: "error", code: reply.problem.code, detail: reply.problem.detail };
    else state.court = { status: "unavailable" };
  } catch {
    state.court = { status: "error", code: "network", detail: t("answer.error.network") };
  }
  renderCourt();
}

function renderCourt() {
  const status = $("court-status");
  status.className = "feedback";
  if (state.orgError) { status.className = "feedback error"; status.textContent = state.orgError; }
  else if (state.org) status.textContent = t("court.signedin", { name: state.org.name || state.org.org, org: state.org.org, key: state.org.keyID });
  else status.textContent = t("court.signedout");
  $("court-signout").hidden = !state.org;
  $("court-history").disabled = !(state.org && state.code && state.answer);
  const box = $("court-result");
  box.replaceChildren();
  if (state.org && !state.answer) box.append(el("p", { class: "hint" }, t("court.needcode")));
  const c = state.court;
  if (!c) return;
  if (c.status === "loading") { box.append(el("p", {}, t("court.loading"))); return; }
  if (c.status === "unavailable") { box.append(el("p", { class: "status caution", "data-court": "unavailable" }, t("court.unavailable"))); return; }
  if (c.status === "error") {
    box.append(el("p", { class: "status bad", "data-court": c.code }, has(`court.error.${c.code}`) ? t(`court.error.${c.code}`) : t("court.error.other", { detail: c.detail })));
    return;
  }
  const proven = new Set(provenEntries().map((e) => e.recordID));
  const head = el("tr", {}, ["time", "type", "writer", "key", "leaf", "proven"].map((k) => el("th", { scope: "col" }, t(`court.col.${k}`))));
  const rows = (c.body.records || []).map((r) => el("tr", { "data-record": r.record_id },
    el("td", {}, formatTimestamp(r.created_at || "")),
    el("td", {}, label("event", r.type), el("div", { class: "mono" }, r.record_id)),
    el("td", {}, r.writer_name || "", el("div", { class: "mono" }, `${r.writer_org}${r.writer_role ? ` · ${r.writer_role}` : ""}`)),
    el("td", { class: "mono" }, r.key_id || ""),
    el("td", { class: "mono" }, String(r.leaf_index ?? "")),
    el("td", {}, proven.has(r.record_id) ? t("court.proven") : t("court.notproven"))));
  box.append(el("h3", {}, t("court.full", { code: grouped(state.code) })), el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, head), el("tbody", {}, rows))));
}

// MARK: - Start

function renderAll() {
  applyMessages();
  document.title = t("page.title");
  showFeedback($("code").value);
  renderScan();
  renderAnswer();
  renderFile();
  renderCourt();
}

async function start() {
  try {
    await setUp();
  } finally {
    // Shown even if a message file could not be read, rather than a blank page.
    document.documentElement.classList.remove("i18n-pending");
  }
  // The QR's URL: /V/<code> opens the page with the code filled in and checked.
  const match = /^\/V\/([^/]+)$/i.exec(location.pathname);
  if (match) {
    let code = match[1];
    try { code = decodeURIComponent(code); } catch { /* shown as typed: the code check says what is wrong */ }
    $("code").value = code;
    await check(code, { focusAnswer: false });
  }
  document.body.dataset.ready = "true";
}

async function setUp() {
  const names = await languages();
  await useLanguage(preferredLanguage());
  const select = $("language");
  for (const [tag, name] of Object.entries(names)) select.append(el("option", { value: tag, lang: tag }, name));
  select.value = language();
  select.addEventListener("change", async () => {
    await useLanguage(select.value);
    renderAll();
  });
  renderAll();

  $("code").addEventListener("input", (e) => showFeedback(e.target.value));
  $("code-form").addEventListener("submit", (e) => {
    e.preventDefault();
    check($("code").value);
  });
  $("file").addEventListener("change", (e) => { if (e.target.files[0]) checkFile(e.target.files[0]); });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files[0]) checkFile(e.dataTransfer.files[0]);
  });
  $("scan").addEventListener("click", startScan);
  $("scan-stop").addEventListener("click", stopScan);
  $("keyfile").addEventListener("change", (e) => { if (e.target.files[0]) signIn(e.target.files[0]); });
  $("court-signout").addEventListener("click", () => { state.org = null; state.court = null; renderCourt(); });
  $("court-history").addEventListener("click", loadHistory);
  // The printed report shows every check, open.
  window.addEventListener("beforeprint", () => { for (const d of document.querySelectorAll(".proof details")) d.open = true; });
}

start();
