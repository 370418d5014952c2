// The live view's page: polls /api/state every second and redraws; a click on a minted deposit opens its chain of
// trust from /api/provenance/<txid:vout> (refreshed every two seconds while open). Plain DOM, no framework, and
// every value is set as text (never as HTML).
"use strict";

(function () {
  const POLL_MS = 1000;
  const PROVENANCE_POLL_MS = 2000;
  const LINK_ICONS = { pass: "✔", fail: "✘", pending: "…" };
  /** Evidence shown first in each link of the chain of trust (the rest follows). */
  const KEY_EVIDENCE = {
    bitcoin: ["txid", "vout", "height", "confirmations", "spvVerified", "lightClientBlock"],
    order: ["sequence", "inBitcoinOrder"],
    keystone: ["evmTxHash", "evmBlock", "keystone", "ledgerId", "recordedAtBlock"],
    pop: ["keystone", "publications", "popTxid", "btcHeight", "effectiveConfirmations", "superfinal"],
    burn: ["requestTx", "evmBlock", "burned", "sats", "fee"],
    payout: ["payoutTxid", "paid", "destination", "spvVerified"],
    finalization: ["state", "finalizeTx", "evmBlock", "paid"],
  };

  const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  /** A long hash shortened in the middle; anything else as it is. */
  const short = (h, n = 8) =>
    typeof h === "string" && /^(0x)?[0-9a-fA-F]+$/.test(h) && h.length > 2 * n + 1
      ? `${h.slice(0, n)}…${h.slice(-n)}`
      : h;
  const btc = (sats) => {
    const s = BigInt(sats);
    const whole = s / 100000000n;
    const frac = (s % 100000000n).toString().padStart(8, "0").replace(/0+$/, "");
    return `${whole}${frac ? "." + frac : ""} BTC`;
  };
  /** A progress bar (width set through the CSSOM: the page's CSP allows no inline style attribute). */
  function bar(pct) {
    const fill = el("i", { class: pct >= 100 ? "full" : "" });
    fill.style.width = `${pct}%`;
    return el("span", { class: "bar" }, fill);
  }
  const badge = (state, text) => el("span", { class: `badge ${state}`, text: text || state });

  function setText(id, text) {
    const e = $(id);
    if (e.textContent !== String(text)) e.textContent = String(text);
  }

  /** What each table was last drawn from: a table is redrawn only when it changed (a click is never lost). */
  const drawn = {};

  function replaceRows(tbodyId, emptyId, data, makeRows) {
    const sig = JSON.stringify(data);
    if (drawn[tbodyId] === sig) return;
    drawn[tbodyId] = sig;
    const rows = makeRows();
    $(tbodyId).replaceChildren(...rows);
    $(emptyId).hidden = rows.length > 0;
  }

  function renderBitcoin(b) {
    setText("btc-tip", b.tipHeight);
    setText("btc-tip-hash", b.tipHash);
    setText("btc-mempool", b.mempool);
    const blocks = b.blocks
      .slice()
      .reverse()
      .map((blk) =>
        el(
          "li",
          { class: blk.height === b.tipHeight ? "tip" : "", title: blk.hash, "data-height": blk.height },
          String(blk.height),
          el("span", { text: `${blk.txs} tx` }),
        ),
      );
    $("btc-blocks").replaceChildren(...blocks);
  }

  function renderLightClient(lc) {
    setText("lc-tip", lc.height);
    setText("lc-hash", lc.hash);
    const m = $("lc-match");
    m.dataset.state = lc.matches ? "match" : "mismatch";
    m.textContent = lc.matches
      ? `✔ the node's block at ${lc.height}` + (lc.behind > 0 ? ` (${lc.behind} behind the tip)` : " (at the tip)")
      : `✘ differs from the node's block ${short(lc.nodeHashAtHeight || "none")}`;
  }

  function renderKeystones(k) {
    setText("ks-last", k.last || "none");
    setText("ks-interval", `a keystone every ${k.interval} EVM blocks`);
    const sf = k.newestSuperfinal;
    setText(
      "ks-superfinal",
      sf ? `✔ superfinal up to ${sf.number} (${sf.effectiveConfirmations} confirmations)` : "none superfinal yet",
    );
    replaceRows("keystones", "keystones-empty", k.items, () => k.items.map(keystoneRow));
  }

  function keystoneRow(ks) {
    const pct = Math.min(100, (ks.effectiveConfirmations / 10) * 100);
    const pubs = ks.publications.length ? ks.publications.map((p) => `${p.btcHeight}`).join(", ") : "not published yet";
    return el(
      "tr",
      { "data-testid": "keystone-row", "data-number": ks.number, "data-stage": ks.stage },
      el("td", { text: String(ks.number) }),
      el("td", { class: "mono", text: short(ks.id, 6), title: ks.id }),
      el("td", { text: String(ks.btcHeight) }),
      el("td", { text: `${ks.publications.length ? "at Bitcoin height " : ""}${pubs}` }),
      el("td", {}, bar(pct), String(ks.effectiveConfirmations)),
      el("td", {}, badge(ks.stage)),
    );
  }

  function renderDeposits(ds) {
    replaceRows("deposits", "deposits-empty", ds, () => ds.map(depositRow));
  }

  function depositRow(d) {
    const conf =
      d.state === "minted"
        ? `EVM block ${d.evmBlock}`
        : `${d.confirmations ?? 0}${d.required !== null ? " / " + d.required : ""}`;
    return el(
      "tr",
      {
        "data-testid": "deposit-row",
        "data-key": d.key,
        "data-state": d.state,
        class: d.state === "minted" ? "clickable" : "",
        title: d.state === "minted" ? "open the chain of trust" : "not minted yet",
      },
      el("td", { class: "mono", text: `${short(d.txid)}:${d.vout}` }),
      el("td", { text: btc(d.sats) }),
      el("td", {}, badge(d.state)),
      el("td", { text: conf }),
      el("td", { text: d.sequence === null ? "–" : String(d.sequence) }),
      el("td", { class: "mono", text: d.recipient ? short(d.recipient, 6) : "–" }),
    );
  }

  function renderWithdrawals(ws) {
    replaceRows("withdrawals", "withdrawals-empty", ws, () => ws.map(withdrawalRow));
  }

  function withdrawalRow(w) {
    return el(
      "tr",
      {
        "data-testid": "withdrawal-row",
        "data-id": w.id,
        "data-key": `withdrawal/${w.id}`,
        "data-state": w.state,
        class: "clickable",
        title: "open the chain of trust",
      },
      el("td", { text: w.id }),
      el("td", { text: btc(w.sats) }),
      el("td", {}, badge(w.state)),
      el("td", {
        class: "mono",
        text: w.payoutTxid ? short(w.payoutTxid) + (w.payoutHeight ? ` @${w.payoutHeight}` : "") : "–",
      }),
      el("td", { class: "mono", text: short(w.requester, 6) }),
    );
  }

  function render(s) {
    setText("chain-id", s.chainId);
    setText("evm-head", s.evmHead);
    renderBitcoin(s.bitcoin);
    renderLightClient(s.lightClient);
    renderKeystones(s.keystones);
    renderDeposits(s.deposits);
    renderWithdrawals(s.withdrawals);
    const errs = $("errors");
    errs.hidden = s.errors.length === 0;
    errs.textContent = s.errors.join("; ");
  }

  function setLive(state, text) {
    const live = $("live");
    live.dataset.state = state;
    live.querySelector("span").textContent = text;
  }

  async function poll() {
    try {
      const res = await fetch("/api/state", { cache: "no-store" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      render(await res.json());
      setLive("live", `live · ${new Date().toLocaleTimeString()}`);
    } catch (err) {
      setLive("down", `unreachable (${err.message})`);
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  // Provenance ------------------------------------------------------------------------------------------------

  let openKey = null;
  let provenanceTimer = null;

  function evidenceList(name, evidence) {
    const first = KEY_EVIDENCE[name] || [];
    const keys = [...first.filter((k) => k in evidence), ...Object.keys(evidence).filter((k) => !first.includes(k))];
    const dl = el("dl");
    for (const k of keys) {
      const v = evidence[k];
      const text = v === null ? "–" : typeof v === "boolean" ? (v ? "yes" : "no") : String(v);
      dl.append(el("dt", { text: k }), el("dd", { text: short(text, 10), title: text }));
    }
    return dl;
  }

  function renderProvenance(r) {
    setText(
      "provenance-title",
      r.subject === "withdrawal"
        ? `withdrawal ${r.withdrawal.id} · ${btc(r.withdrawal.sats)} · ${r.withdrawal.state.toLowerCase()}`
        : `${short(r.deposit.txid)}:${r.deposit.vout} · sequence ${r.deposit.sequence}`,
    );
    const st = $("provenance-status");
    st.className = `badge ${r.status}`;
    st.textContent = r.status;
    st.dataset.status = r.status;
    const parts = [];
    r.links.forEach((l, i) => {
      if (i > 0) parts.push(el("div", { class: "arrow", text: "→" }));
      const issues = l.issues.length
        ? el("ul", {}, ...l.issues.map((x) => el("li", { class: x.severity, text: `${x.kind}: ${x.message}` })))
        : null;
      parts.push(
        el(
          "div",
          { class: `link ${l.status}`, "data-testid": `provenance-link-${l.name}`, "data-status": l.status },
          el(
            "h3",
            {},
            el("span", { class: "mark", "data-testid": "provenance-mark", text: LINK_ICONS[l.status] || "?" }),
            `${i + 1}. ${l.title}`,
          ),
          evidenceList(l.name, l.evidence),
          issues,
        ),
      );
    });
    $("provenance-chain").replaceChildren(...parts);
    setText(
      "provenance-note",
      `checked against the nodes and the contracts at ${new Date(r.checkedAt).toLocaleTimeString()}`,
    );
  }

  async function loadProvenance() {
    const key = openKey;
    if (key === null) return;
    try {
      // A withdrawal's key is "withdrawal/<id>" (its own route); a deposit's is its txid:vout.
      const path = key.startsWith("withdrawal/") ? key : encodeURIComponent(key);
      const res = await fetch(`/api/provenance/${path}`, { cache: "no-store" });
      const body = await res.json();
      if (key !== openKey) return;
      if (!res.ok) setText("provenance-note", `cannot check: ${body.error}`);
      else renderProvenance(body);
    } catch (err) {
      setText("provenance-note", `cannot check: ${err.message}`);
    } finally {
      if (key === openKey) provenanceTimer = setTimeout(loadProvenance, PROVENANCE_POLL_MS);
    }
  }

  function openProvenance(key) {
    closeProvenance();
    openKey = key;
    setText("provenance-title", key);
    const st = $("provenance-status");
    st.className = "badge";
    st.textContent = "checking…";
    delete st.dataset.status;
    $("provenance-chain").replaceChildren();
    setText("provenance-note", "checking every link against the nodes and the contracts…");
    $("provenance-overlay").hidden = false;
    void loadProvenance();
  }

  function closeProvenance() {
    openKey = null;
    if (provenanceTimer !== null) clearTimeout(provenanceTimer);
    provenanceTimer = null;
    $("provenance-overlay").hidden = true;
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("deposits").addEventListener("click", (ev) => {
      const row = ev.target.closest("tr[data-key]");
      if (row !== null && row.dataset.state === "minted") openProvenance(row.dataset.key);
    });
    $("withdrawals").addEventListener("click", (ev) => {
      const row = ev.target.closest("tr[data-key]");
      if (row !== null) openProvenance(row.dataset.key);
    });
    $("provenance-close").addEventListener("click", closeProvenance);
    $("provenance-overlay").addEventListener("click", (ev) => {
      if (ev.target === ev.currentTarget) closeProvenance();
    });
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") closeProvenance();
    });
    void poll();
  });
})();
