// The page's JavaScript verifier against the vectors the Swift verifier is tested with
// (Tests/Vectors, the same as ../shared/vectors), and against live bundles of a demo node with
// every kind of tampering. Run: node --test Tests/Web/ (set CINNABAR_URL and CINNABAR_CODES, a
// JSON object of label → code, for the live part; WebPageTests.swift does).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { checkCharacter, grouped, readCode } from "../../Sources/API/Web/js/code.mjs";
import { importEd25519Seed, importOrganisationKey, signatureBase, signatureHeaders } from "../../Sources/API/Web/js/court.mjs";
import { base58btcDecode, base58btcEncode, base64Decode, base64Encode, concat, hexDecode, hexEncode, utf8 } from "../../Sources/API/Web/js/encoding.mjs";
import {
  canonicalJSON, crossCheckAnswer, ed25519Available, keyID, leafHash, multikeyPublicKey, nodeHash, parseCheckpoint, parseNote,
  parsePolicy, parseTrailer, parseVerifierKey, sha256, verifiedKeys, verifyBundle, verifyCheckpointNote, verifyConsistency,
  verifyDataIntegrityProof, verifyInclusion,
} from "../../Sources/API/Web/js/verifier.mjs";

const vectors = (name) => JSON.parse(readFileSync(fileURLToPath(new URL(`../Vectors/${name}.json`, import.meta.url)), "utf8"));
const b64 = (s) => base64Decode(s);
/** The fields of a key string: the name, the ID, and the base64 (which may itself hold "+"). */
const keyFields = (k, skip = 0) => { const parts = k.split("+"); return [...parts.slice(skip, skip + 2), parts.slice(skip + 2).join("+")]; };
const flipBit = (bytes, bit) => { const out = Uint8Array.from(bytes); out[bit >> 3] ^= 1 << (bit & 7); return out; };

async function rejects(promise, code, message) {
  await assert.rejects(promise, (e) => { assert.equal(e.code, code, `${message}: ${e.message}`); return true; }, message);
}

// MARK: - RFC 6962 / RFC 9162

const tree = vectors("rfc6962");

test("leaf hashes of the RFC 6962 reference tree", async () => {
  for (const [i, hex] of tree.leaves_hex.entries()) {
    assert.equal(base64Encode(await leafHash(hexDecode(hex))), tree.leaf_hashes[i], `leaf ${i}`);
  }
  // The root of two leaves is their node hash.
  assert.equal(base64Encode(await nodeHash(b64(tree.leaf_hashes[0]), b64(tree.leaf_hashes[1]))), tree.roots[2]);
});

test("every inclusion proof of the vectors verifies, and every one-bit change is refused", async () => {
  let tampered = 0;
  for (const c of tree.inclusion) {
    const leaf = b64(tree.leaf_hashes[c.Index]), root = b64(tree.roots[c.Size]), proof = c.Proof.map(b64);
    await verifyInclusion(leaf, c.Index, c.Size, proof, root);
    for (let h = 0; h < proof.length; h++) {
      for (const bit of [0, 129, 255]) {
        const bad = proof.map((p, j) => (j === h ? flipBit(p, bit) : p));
        await rejects(verifyInclusion(leaf, c.Index, c.Size, bad, root), "root_mismatch", `proof hash ${h} bit ${bit} of ${JSON.stringify(c)}`);
        tampered++;
      }
    }
    await rejects(verifyInclusion(flipBit(leaf, 7), c.Index, c.Size, proof, root), "root_mismatch", "leaf");
    await rejects(verifyInclusion(leaf, c.Index, c.Size, proof, flipBit(root, 200)), "root_mismatch", "root");
    await rejects(verifyInclusion(leaf, c.Index, c.Size, [...proof, leaf], root), "wrong_proof_length", "extra hash");
    await rejects(verifyInclusion(leaf, c.Size, c.Size, proof, root), "index_out_of_range", "index = size");
    if (c.Index + 1 < c.Size && proof.length > 0) {
      await assert.rejects(verifyInclusion(leaf, c.Index + 1, c.Size, proof, root), "the leaf at the next index");
    }
    tampered += 4;
  }
  assert.ok(tampered > 100, `${tampered} tampered proofs tried`);
});

test("every consistency proof of the vectors verifies, and every one-bit change is refused", async () => {
  for (const c of tree.consistency) {
    const from = b64(tree.roots[c.From]), to = b64(tree.roots[c.To]), proof = c.Proof.map(b64);
    await verifyConsistency(c.From, from, c.To, to, proof);
    for (let h = 0; h < proof.length; h++) {
      const bad = proof.map((p, j) => (j === h ? flipBit(p, 99) : p));
      await rejects(verifyConsistency(c.From, from, c.To, to, bad), "root_mismatch", `hash ${h} of ${JSON.stringify(c)}`);
    }
    if (c.From !== c.To) {
      await rejects(verifyConsistency(c.From, flipBit(from, 3), c.To, to, proof), "root_mismatch", "old root");
      await rejects(verifyConsistency(c.From, from, c.To, flipBit(to, 3), proof), "root_mismatch", "new root");
    }
  }
  await rejects(verifyConsistency(3, b64(tree.roots[3]), 2, b64(tree.roots[2]), []), "size_out_of_range", "shrinking tree");
  await rejects(verifyConsistency(1, b64(tree.roots[1]), 8, b64(tree.roots[8]), []), "empty_proof", "empty proof");
});

// MARK: - C2SP signed notes

const notes = vectors("signed-note");

test("signed-note vectors: keys parse with their IDs and the notes verify", async () => {
  assert.equal(await ed25519Available(), true, "Node's WebCrypto verifies Ed25519 (RFC 8032 test 1)");
  for (const v of notes.verifying) {
    const key = await parseVerifierKey(v.vkey);
    assert.equal(key.keyID.toString(16).padStart(8, "0"), v.vkey.split("+")[1]);
    const note = parseNote(v.note);
    assert.deepEqual(await verifiedKeys(note, [key]), [key]);
  }
  for (const v of notes.signing) {
    const key = await parseVerifierKey(v.vkey);
    const note = parseNote(`${v.text}\n${v.signature_line}`);
    assert.deepEqual(await verifiedKeys(note, [key]), [key]);
    // Ed25519 is deterministic: signing with the private key through PKCS#8 gives the same line.
    const seed = b64(keyFields(v.skey, 2)[2]).subarray(1);
    const signer = await importEd25519Seed(seed);
    const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, signer, utf8(v.text)));
    const id = hexDecode(v.vkey.split("+")[1]);
    assert.equal(`\u2014 ${key.name} ${base64Encode(concat(id, signature))}\n`, v.signature_line);
  }
});

test("a changed note, signature or key is refused; unknown keys are ignored", async () => {
  const v = notes.verifying[1];
  const key = await parseVerifierKey(v.vkey);
  const note = parseNote(v.note);
  await rejects(verifiedKeys({ ...note, text: note.text.replace("6476701", "6476702") }, [key]), "signature_invalid", "text");
  for (const bit of [0, 100, 511]) {
    const bad = { ...note, signatures: [{ ...note.signatures[0], signature: flipBit(note.signatures[0].signature, bit) }] };
    await rejects(verifiedKeys(bad, [key]), "signature_invalid", `signature bit ${bit}`);
  }
  const other = await parseVerifierKey(notes.verifying[0].vkey);
  assert.deepEqual(await verifiedKeys(note, [other]), [], "a line from an unknown key is ignored");
  const [name, id, material] = keyFields(v.vkey);
  await rejects(parseVerifierKey(`${name}+${id}+${base64Encode(flipBit(b64(material), 20))}`), "bad_key", "key bytes changed: the ID no longer matches");
  await rejects(parseVerifierKey(`${name}+${id}+${base64Encode(Uint8Array.of(0x02, ...b64(material).subarray(1)))}`), "unknown_key_type", "type 0x02");
  assert.equal(await keyID(name, 1, b64(material).subarray(1)), parseInt(id, 16));
});

test("malformed notes and checkpoints are refused with the Swift codes", async () => {
  const line = notes.verifying[0].note.split("\n\n")[1];
  const cases = [
    ["text\n" + line, "malformed_note"], // no blank line
    ["text\n\n", "malformed_note"], // no signature
    ["text\n\n" + line.slice(0, -1), "malformed_note"], // no final newline
    ["text\n\n- x AAAAAAA=\n", "malformed_note"], // not an em dash
    ["te\u0001xt\n\n" + line, "malformed_note"],
    ["text\n\n" + line + line, "duplicate_signature"],
    ["text\n\n" + `\u2014 k AAAA\n`, "malformed_note"], // under 5 bytes
  ];
  for (const [text, code] of cases) assert.throws(() => parseNote(text), (e) => e.code === code, JSON.stringify(text));
  assert.throws(() => parseCheckpoint("origin\n01\n" + tree.roots[1] + "\n"), (e) => e.code === "malformed_checkpoint");
  assert.throws(() => parseCheckpoint("origin\n1\nAAAA\n"), (e) => e.code === "malformed_checkpoint");
  assert.equal(parseCheckpoint("origin\n8\n" + tree.roots[8] + "\n").size, 8n);
});

// MARK: - tlog-policy and quorum

test("a policy quorum counts distinct known validators", async () => {
  const text = "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n";
  const pairs = [];
  for (let i = 0; i < 4; i++) {
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    const name = `origin/v${i}`;
    const id = await keyID(name, 1, raw);
    pairs.push({ name, pair, raw, id, vkey: `${name}+${id.toString(16).padStart(8, "0")}+${base64Encode(Uint8Array.of(1, ...raw))}` });
  }
  const policy = await parsePolicy(pairs.map((p, i) => `witness v${i} ${p.vkey}\n`).join("") + "group validators 3 v0 v1 v2 v3\nquorum validators\n");
  const sign = async (p) => {
    const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, p.pair.privateKey, utf8(text)));
    const id = Uint8Array.of(p.id >>> 24, (p.id >>> 16) & 255, (p.id >>> 8) & 255, p.id & 255);
    return `\u2014 ${p.name} ${base64Encode(concat(id, sig))}\n`;
  };
  const lines = await Promise.all(pairs.map(sign));
  const three = await verifyCheckpointNote(`${text}\n${lines.slice(0, 3).join("")}`, policy);
  assert.deepEqual([three.signedMembers, three.members, three.required], [3, 4, 3]);
  await rejects(verifyCheckpointNote(`${text}\n${lines.slice(0, 2).join("")}`, policy), "quorum_not_met", "2 of 4");
  // A stranger's line is ignored, not counted.
  const stranger = lines[0].replace("origin/v0", "origin/x");
  await rejects(verifyCheckpointNote(`${text}\n${lines.slice(1, 3).join("")}${stranger}`, policy), "quorum_not_met", "unknown key");
  for (const bad of ["quorum nobody\n", "group g 5 a\nquorum g\n", `witness a ${pairs[0].vkey}\nwitness b ${pairs[0].vkey}\nquorum a\n`, "witness a x\nquorum a\n", ""]) {
    await rejects(parsePolicy(bad), "malformed_policy", JSON.stringify(bad));
  }
});

// MARK: - Records: JCS and eddsa-jcs-2022

test("JCS vectors canonicalise byte for byte", () => {
  for (const c of vectors("jcs").cases) {
    const out = canonicalJSON(JSON.parse(c.input));
    assert.equal(out, c.canonical, c.name);
    assert.equal(hexEncode(utf8(out)), c.canonical_utf8_hex, c.name);
  }
});

test("the eddsa-jcs-2022 vector verifies, and its key file signs it again", async () => {
  const v = vectors("eddsa-jcs-2022");
  assert.equal(canonicalJSON(v.unsecuredDocument), v.canonicalDocument);
  const publicKey = multikeyPublicKey(v.publicKeyMultibase);
  const proof = { ...v.proofConfig, proofValue: v.proofValue };
  await verifyDataIntegrityProof({ ...v.unsecuredDocument, proof }, proof, publicKey);
  await rejects(verifyDataIntegrityProof({ ...v.unsecuredDocument, name: "Alumni Credential!", proof }, proof, publicKey), "signature_invalid", "document changed");
  const badValue = base58btcEncode(flipBit(base58btcDecode(v.proofValue).subarray(0), 9));
  await rejects(verifyDataIntegrityProof(v.unsecuredDocument, { ...proof, proofValue: badValue }, publicKey), "signature_invalid", "signature changed");
  // The organisation key file format (Multikey 0x8026 seed) signs the same hash data to the same signature.
  const org = await importOrganisationKey(JSON.stringify({ org: "X", key_id: "k1", private_key_multibase: v.privateKeyMultibase }));
  const hashData = concat(await sha256(utf8(canonicalJSON(v.proofConfig))), await sha256(utf8(v.canonicalDocument)));
  assert.equal(hexEncode(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, org.key, hashData))), v.signatureHex);
  assert.equal(base58btcEncode(hexDecode(v.signatureHex)), v.proofValue);
});

// MARK: - RFC 9421 request signatures

test("the RFC 9421 signature base is exactly the node's", async () => {
  const { base, params } = signatureBase({ method: "GET", path: "/v1/history/N99X-9QGK-TLL0-6QWE", query: "", created: 1764400000, keyid: "cinnabar:org:12510100MB0000001U#k1" });
  assert.equal(base, [
    '"@method": GET', '"@path": /v1/history/N99X-9QGK-TLL0-6QWE', '"@query": ?',
    '"@signature-params": ("@method" "@path" "@query");created=1764400000;keyid="cinnabar:org:12510100MB0000001U#k1";alg="ed25519"',
  ].join("\n"));
  assert.ok(!base.endsWith("\n"));
  const v = vectors("eddsa-jcs-2022");
  const org = await importOrganisationKey(JSON.stringify({ org: "12510100MB0000001U", key_id: "k1", private_key_multibase: v.privateKeyMultibase }));
  const headers = await signatureHeaders(org, "GET", "http://node.example/v1/history/N99X9QGKTLL06QWE?x=1");
  const created = /created=(\d+)/.exec(headers["Signature-Input"])[1];
  assert.match(headers["Signature-Input"], /^cinnabar=\("@method" "@path" "@query"\);created=\d+;keyid="cinnabar:org:12510100MB0000001U#k1";alg="ed25519"$/);
  const signature = b64(/^cinnabar=:(.*):$/.exec(headers.Signature)[1]);
  const signed = signatureBase({ method: "GET", path: "/v1/history/N99X9QGKTLL06QWE", query: "x=1", created, keyid: org.keyid }).base;
  const pub = await crypto.subtle.importKey("raw", multikeyPublicKey(v.publicKeyMultibase), { name: "Ed25519" }, false, ["verify"]);
  assert.ok(await crypto.subtle.verify({ name: "Ed25519" }, pub, signature, utf8(signed)));
  await assert.rejects(importOrganisationKey('{"org":"X","key_id":"k1","private_key_multibase":"z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}'), (e) => e.code === "key_file_not_ed25519");
});

// MARK: - Verification codes, as VerificationCodeTests.swift

test("typed forms normalise to the same code", () => {
  const example = "NK7Q3HXD9PRTWM45";
  assert.equal(checkCharacter("NK7Q3HXD9PRTWM4"), "5");
  const prefix = "N0K1Q3HXD9PRT01";
  const digits = prefix + checkCharacter(prefix);
  const table = [
    ["NK7Q3HXD9PRTWM45", example], ["nk7q3hxd9prtwm45", example], ["Nk7Q-3hXd-9PrT-wM45", example],
    ["  NK7Q 3HXD 9PRT WM45  ", example], ["\tNK7Q3HXD9PRTWM45\r\n", example], ["NK7Q–3HXD–9PRT–WM45", example],
    ["NK7Q—3HXD—9PRT—WM45", example], ["NK7Q‐3HXD‑9PRT−WM45", example], ["ＮＫ７Ｑ－３ＨＸＤ－９ＰＲＴ－ＷＭ４５", example],
    ["ｎｋ７ｑ　３ｈｘｄ　９ｐｒｔ　ｗｍ４５", example], ["NK7Q\u00A03HXD\u200B9PRT\uFEFFWM45", example], ["nk7q–3hxd ９prt-ｗm45", example],
    [digits, digits], ["NOK1Q3HXD9PRT01" + digits.slice(-1), digits], ["N0KIQ3HXD9PRT0I" + digits.slice(-1), digits],
    ["no-kiq3-hxd9-prtoi" + digits.slice(-1).toLowerCase(), digits], ["ＮＯＫＩＱ３ＨＸＤ９ＰＲＴＯＩ" + digits.slice(-1), digits],
  ];
  for (const [input, value] of table) assert.deepEqual(readCode(input), { value, error: null }, JSON.stringify(input));
  assert.equal(grouped(example), "NK7Q-3HXD-9PRT-WM45");
});

test("each rejection has the Swift code, in the Swift order", () => {
  const table = [
    ["NK7Q-3HXD-9PRT-WM4S", { code: "code_bad_character", character: "S", position: 16, suggestion: "5" }],
    ["NK7V-3HXD-9PRT-WM45", { code: "code_bad_character", character: "V", position: 4, suggestion: "U" }],
    ["zk7q3hxd9prtwm45", { code: "code_bad_character", character: "Z", position: 1, suggestion: "2" }],
    ["ＮＫ７Ｑ３ＨＸＤ９ＰＲＴＷＭ４Ｓ", { code: "code_bad_character", character: "S", position: 16, suggestion: "5" }],
    ["NK7Q.3HXD.9PRT.WM45", { code: "code_bad_character", character: ".", position: 5, suggestion: null }],
    ["NK7Q3HXD9PRTWM4\u0410", { code: "code_bad_character", character: "\u0410", position: 16 }],
    ["验证码NK7Q3HXD9PRTWM45", { code: "code_bad_character", character: "验", position: 1 }],
    ["NK7Q3HXD9PRTWM4\u0000", { code: "code_bad_character", character: "\u0000", position: 16 }],
    ["", { code: "code_wrong_length", count: 0 }], [" - – ", { code: "code_wrong_length", count: 0 }],
    ["NK7Q3HXD9PRTWM4", { code: "code_wrong_length", count: 15 }], ["NK7Q-3HXD-9PRT-WM45-5", { code: "code_wrong_length", count: 17 }],
    ["BK7Q3HXD9PRTWM45", { code: "code_unknown_kind", character: "B" }], ["OK7Q3HXD9PRTWM45", { code: "code_unknown_kind", character: "0" }],
    ["NK7Q3HXD9PRTWM46", { code: "code_bad_check_character" }], ["NK7Q3HXD9PRTMW45", { code: "code_bad_check_character" }],
  ];
  for (const [input, error] of table) {
    const got = readCode(input).error;
    for (const [k, v] of Object.entries(error)) assert.equal(got && got[k], v, `${JSON.stringify(input)}: ${k}`);
  }
  // While typing: a short code is no error yet, an unknown kind is told at once.
  assert.equal(readCode("nk7q-3h", { partial: true }).error, null);
  assert.equal(readCode("b", { partial: true }).error.code, "code_unknown_kind");
  // Every single substitution and adjacent or jump transposition of the example is caught.
  const code = "NK7Q3HXD9PRTWM45";
  for (let i = 0; i < 16; i++) {
    for (const s of "0123456789ABCDEFGHJKLMNPQRTUWXY") {
      if (s !== code[i]) assert.notEqual(readCode(code.slice(0, i) + s + code.slice(i + 1)).error, null, `${i}=${s}`);
    }
    for (const gap of [1, 2]) {
      if (i + gap < 16 && code[i] !== code[i + gap]) {
        const c = [...code];
        [c[i], c[i + gap]] = [c[i + gap], c[i]];
        assert.notEqual(readCode(c.join("")).error, null, `swap ${i},${i + gap}`);
      }
    }
  }
});

// MARK: - Live bundles of a demo node, intact and tampered

const live = process.env.CINNABAR_URL;
const liveCodes = live ? JSON.parse(process.env.CINNABAR_CODES || "{}") : {};

/** GET a JSON answer, waiting out the node's per-client lookup rate limit (429 + Retry-After) as a client should. */
async function fetchJSON(path) {
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(live + path);
    if (r.status === 429 && attempt < 10) {
      await new Promise((resolve) => setTimeout(resolve, 1000 * Number(r.headers.get("retry-after") || 1)));
      continue;
    }
    assert.equal(r.status, 200, `${path}: ${r.status}`);
    return r.json();
  }
}

test("live bundles verify on this device and agree with the node's answers", { skip: !live && "CINNABAR_URL is not set" }, async () => {
  assert.ok(Object.keys(liveCodes).length >= 5, "the demo printed codes");
  for (const [label, code] of Object.entries(liveCodes)) {
    const bundle = await fetchJSON(`/v1/bundles/${code}`);
    const report = await verifyBundle(bundle);
    assert.equal(report.ok, true, `${label}: ${JSON.stringify(report.failure)}`);
    assert.ok(report.signaturesChecked);
    assert.equal(report.signatures.signedMembers, 1);
    const answer = await fetchJSON(`/v1/verify/${code}`);
    crossCheckAnswer(answer, report);
    assert.equal(report.ok, true, `${label} answer: ${JSON.stringify(report.failure)}`);
    const trailer = parseTrailer(b64(bundle.entries[0].trailer));
    assert.equal(trailer.origin, bundle.origin);
  }
});

test("every tampered live bundle is caught, naming the failed check", { skip: !live && "CINNABAR_URL is not set" }, async () => {
  const code = liveCodes["notarial-revoked"];
  const original = await fetchJSON(`/v1/bundles/${code}`);
  const answer = await fetchJSON(`/v1/verify/${code}`);
  const copy = () => structuredClone(original);
  const flip64 = (s, bit) => base64Encode(flipBit(b64(s), bit));
  const noteLines = original.checkpoint.split("\n");
  const cases = [];
  for (let h = 0; h < original.entries[0].inclusion_proof.length; h++) {
    cases.push([`inclusion proof hash ${h}`, (b) => { b.entries[0].inclusion_proof[h] = flip64(b.entries[0].inclusion_proof[h], 13 * h + 1); }, "inclusion"]);
  }
  for (const at of [8, 400, 2000]) cases.push([`record leaf bit ${at}`, (b) => { b.entries[0].leaf = flip64(b.entries[0].leaf, at); }, "inclusion"]);
  cases.push(["revocation leaf", (b) => { b.entries[1].leaf = flip64(b.entries[1].leaf, 777); }, "inclusion"]);
  cases.push(["trailer leaf (time)", (b) => { b.entries[0].trailer = flip64(b.entries[0].trailer, 8 * 60 + 3); }, "trailer"]);
  cases.push(["trailer proof", (b) => { b.entries[0].trailer_proof[0] = flip64(b.entries[0].trailer_proof[0], 5); }, "trailer"]);
  cases.push(["leaf index", (b) => { b.entries[0].leaf_index += 1; }, "inclusion"]);
  cases.push(["checkpoint root", (b) => { b.checkpoint = [noteLines[0], noteLines[1], flip64(noteLines[2], 77), ...noteLines.slice(3)].join("\n"); }, "checkpoint_signatures"]);
  cases.push(["checkpoint size", (b) => { b.checkpoint = [noteLines[0], String(Number(noteLines[1]) + 1), ...noteLines.slice(2)].join("\n"); }, "checkpoint_signatures"]);
  cases.push(["validator signature", (b) => {
    const sig = noteLines[4].split(" ");
    sig[2] = flip64(sig[2], 8 * 4 + 17);
    b.checkpoint = [...noteLines.slice(0, 4), sig.join(" "), ...noteLines.slice(5)].join("\n");
  }, "checkpoint_signatures"]);
  cases.push(["validator key in the policy", (b) => {
    const vkey = b.policy.split("\n")[0].split(" ")[2];
    const [n, id, m] = keyFields(vkey);
    b.policy = b.policy.replace(vkey, `${n}+${id}+${flip64(m, 8 * 5)}`);
  }, "checkpoint_signatures"]);
  cases.push(["writer key", (b) => {
    const w = b.writers[0];
    const bytes = base58btcDecode(w.keys.k1);
    bytes[10] ^= 1;
    w.keys.k1 = base58btcEncode(bytes);
  }, "writer_signature"]);
  cases.push(["format", (b) => { b.format = "cinnabar-bundle/v0"; }, "format"]);
  for (const [name, mutate, check] of cases) {
    const bundle = copy();
    mutate(bundle);
    const report = await verifyBundle(bundle);
    assert.equal(report.ok, false, `${name} was not caught`);
    assert.equal(report.failure && report.failure.id, check, `${name}: ${JSON.stringify(report.failure)}`);
  }
  // An answer that says more than the signed records is caught too.
  const answers = [
    ["document number", (a) => { a.document_number = "(2026)川成证字第9号"; }, "answer_fields"],
    ["issuer", (a) => { a.issuer = "12510100MB0000009X"; }, "answer_fields"],
    ["file digest", (a) => { a.sha256 = ["00".repeat(32)]; }, "answer_digests"],
    ["revocation date", (a) => { a.history[0].date = "1999-01-01"; }, "answer_history"],
    ["another record", (a) => { a.record_id = "0".repeat(32); }, "answer_record"],
    ["deposit time", (a) => { a.receipt.logged_at = "2020-01-01T00:00:00+08:00"; }, "answer_fields"],
  ];
  for (const [name, mutate, check] of answers) {
    const a = structuredClone(answer);
    mutate(a);
    const report = crossCheckAnswer(a, await verifyBundle(copy()));
    assert.equal(report.failure && report.failure.id, check, `${name}: ${JSON.stringify(report.failure)}`);
  }
  assert.ok(cases.length >= 15, `${cases.length} tamperings tried`);
});

// MARK: - Message files: every text the page shows is in them

test("every message the page uses is in every language, Nuosu Yi included (a draft that falls back to Chinese for later keys)", () => {
  const web = (path) => readFileSync(fileURLToPath(new URL(`../../Sources/API/Web/${path}`, import.meta.url)), "utf8");
  const html = web("index.html"), app = web("js/app.mjs"), verifier = web("js/verifier.mjs");
  const used = new Set([
    ...[...html.matchAll(/data-i18n(?:-aria-label)?="([^"]+)"/g)].map((m) => m[1]),
    ...[...app.matchAll(/\bt\("([^"]+)"/g)].map((m) => m[1]),
    ...[...verifier.matchAll(/\badd\("([a-z_]+)"/g)].map((m) => `check.${m[1]}`),
    "check.consistency", "check.entry_encoding",
    ...["VALID", "VALID_CORRECTED", "SUPERSEDED", "SUSPENDED", "NOT_ENFORCEABLE", "REVOKED", "EXPIRED", "NOT_FOUND", "EVIDENCE", "CASE"].map((s) => `status.${s}`),
    ...["VALID", "VALID_CORRECTED", "SUPERSEDED", "SUSPENDED", "NOT_ENFORCEABLE", "NOT_FOUND", "EVIDENCE", "CASE", "OTHER"].map((s) => `status.${s}.explain`),
    ...["code_bad_character", "code_unknown_kind", "code_wrong_length", "code_bad_check_character"].map((c) => `code.error.${c}`),
    ..."NFAYLEPK".split("").map((k) => `kind.${k}`),
    ...["time", "type", "writer", "key", "leaf", "proven"].map((c) => `court.col.${c}`),
  ]);
  assert.ok(used.size > 100, `${used.size} messages used`);
  const languages = JSON.parse(web("i18n/languages.json"));
  assert.deepEqual(Object.keys(languages), ["zh-Hans", "en", "bo", "ii", "ko", "ja", "ru"]);
  for (const lang of ["zh-Hans", "en", "bo", "ii", "ko", "ja", "ru"]) {
    const table = JSON.parse(web(`i18n/${lang}.json`));
    const missing = [...used].filter((key) => typeof table[key] !== "string");
    assert.deepEqual(missing, [], `${lang} lacks messages`);
    for (const [key, text] of Object.entries(table)) {
      if (key.startsWith("@")) continue;
      const english = JSON.parse(web("i18n/en.json"))[key];
      const placeholders = (s) => [...s.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]).sort().join(",");
      assert.equal(placeholders(text), placeholders(english), `${lang} ${key}: the same placeholders as English`);
    }
  }
  assert.equal(JSON.parse(web("i18n/ii.json"))["@fallback"], "zh-Hans");
});
