// The sandbox page: shows the channel and QuickBooks, and turns clicks and commands into requests
// that the server signs and sends to the bot as Slack would (see bot/sandbox/interactions.py).
"use strict";

(() => {
  const { body: renderBody, el, setUsers } = SandboxBlocks;
  const POLL_MS = 700;
  const channel = document.getElementById("channel");
  const toast = document.getElementById("toast");
  let shown = null;
  let latest = null;
  let menu = null;

  async function post(path, payload) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload || {}),
    });
    const text = await response.text();
    let data = null;
    try { data = JSON.parse(text); } catch (error) { data = null; }
    if (!response.ok) throw new Error((data && data.error) || text || response.statusText);
    if (data && data.status && data.status !== 200) {
      throw new Error(`The bot answered HTTP ${data.status}.`);
    }
    return data;
  }

  function say(text, isError) {
    toast.textContent = text;
    toast.classList.toggle("error", Boolean(isError));
    toast.hidden = false;
    clearTimeout(say.timer);
    say.timer = setTimeout(() => { toast.hidden = true; }, 6000);
  }

  // -- rendering --------------------------------------------------------------------------

  function clock(ts) {
    const at = new Date(Number(ts.split(".")[0]) * 1000);
    return at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  }

  function renderMessage(message, isReply) {
    const node = el("article", "message");
    node.dataset.ts = message.ts;
    if (message.ephemeral_to) node.classList.add("ephemeral");
    const head = el("div", "message-head");
    head.appendChild(el("span", "avatar", "CC"));
    head.appendChild(el("span", "author", latest.bot.name));
    head.appendChild(el("span", "app-badge", "APP"));
    head.appendChild(el("span", "time", clock(message.ts)));
    node.appendChild(head);
    if (message.ephemeral_to) node.appendChild(el("div", "only-you", "Only visible to you"));
    if (!isReply && message.thread_ts && message.thread_ts !== message.ts) {
      node.appendChild(el("div", "broadcast", "replied to a thread"));
    }
    node.appendChild(renderBody(message));
    if (!isReply && message.replies && message.replies.length) {
      const thread = el("div", "thread");
      thread.setAttribute("aria-label", "Thread");
      const count = message.replies.length;
      thread.appendChild(el("div", "thread-count", `${count} ${count === 1 ? "reply" : "replies"}`));
      message.replies.forEach((reply) => thread.appendChild(renderMessage(reply, true)));
      node.appendChild(thread);
    }
    return node;
  }

  function renderChannel(state) {
    const nearBottom = channel.scrollHeight - channel.scrollTop - channel.clientHeight < 80;
    channel.replaceChildren();
    if (!state.messages.length) {
      const hint = el("p", "empty-channel");
      hint.innerHTML = "Type <code>/costcodes</code> below to post the Ready to Export list.";
      channel.appendChild(hint);
    }
    state.messages.forEach((message) => channel.appendChild(renderMessage(message, false)));
    if (nearBottom || shown === null) channel.scrollTop = channel.scrollHeight;
  }

  function cell(text) { return el("td", "", text || "—"); }

  function renderQuickBooks(state) {
    document.getElementById("qb-accounts").textContent = state.quickbooks.accounts;
    const rows = document.querySelector("#qb-items tbody");
    rows.replaceChildren();
    state.quickbooks.items.forEach((item) => {
      const row = el("tr");
      [item.name, item.type, item.income_account, item.expense_account, item.description]
        .forEach((text) => row.appendChild(cell(text)));
      rows.appendChild(row);
    });
    document.getElementById("qb-empty").hidden = state.quickbooks.items.length > 0;
    const report = state.web_connector;
    const box = document.getElementById("web-connector");
    if (report) box.textContent = describeUpdate(report);
    document.getElementById("run-web-connector").disabled = state.updating;
  }

  function describeUpdate(report) {
    const parts = [`Last update: ${report.stopped}, ${report.requests} request(s) sent to QuickBooks.`];
    if (report.authenticate.length && report.authenticate[0] === "none") {
      parts.push("authenticate answered “none”: nothing to do.");
    }
    if (report.fault) parts.push(`Fault: ${report.fault}`);
    if (report.last_error && report.last_error !== "NoOp") parts.push(report.last_error);
    if (report.close_message) parts.push(report.close_message);
    return parts.join(" ");
  }

  function render(state) {
    latest = state;
    const names = {};
    names[state.user.id] = state.user.name;
    setUsers(names);
    if (menu || document.getElementById("confirm").open) return;  // never under an open menu
    renderChannel(state);
    renderQuickBooks(state);
    shown = state.version;
  }

  async function refresh() {
    try {
      const response = await fetch("/sandbox/state", { cache: "no-store" });
      const state = await response.json();
      if (state.version !== shown || state.updating !== (latest && latest.updating)) render(state);
    } catch (error) {
      say(`The sandbox server does not answer (${error.message}).`, true);
    }
  }

  async function poll() {
    await refresh();
    setTimeout(poll, POLL_MS);
  }

  // -- controls ---------------------------------------------------------------------------

  function where(node) {
    return { ts: node.dataset.ts, block_id: node.dataset.blockId, action_id: node.dataset.actionId };
  }

  // The element as this page shows it, in case the message has changed since it was drawn.
  function asShown(node) {
    const element = { type: node.dataset.kind };
    if (node.dataset.value !== undefined) element.value = node.dataset.value;
    if (node.dataset.kind === "button") element.text = { type: "plain_text", text: node.textContent };
    return element;
  }

  async function act(node, extra) {
    try {
      await post("/sandbox/action", Object.assign(where(node), { element: asShown(node) }, extra || {}));
      refresh();
    } catch (error) {
      say(error.message, true);
    }
  }

  function confirmThen(node) {
    const confirm = JSON.parse(node.dataset.confirm);
    const dialog = document.getElementById("confirm");
    document.getElementById("confirm-title").textContent = confirm.title.text;
    document.getElementById("confirm-text").textContent = confirm.text.text;
    document.getElementById("confirm-deny").textContent = (confirm.deny || { text: "Cancel" }).text;
    const ok = document.getElementById("confirm-ok");
    ok.textContent = (confirm.confirm || { text: "Yes" }).text;
    ok.className = confirm.style === "danger" ? "danger" : "primary";
    dialog.onclose = () => {
      if (dialog.returnValue === "ok") act(node);
      if (latest) render(latest);
    };
    dialog.returnValue = "";
    dialog.showModal();
  }

  function closeMenu() {
    if (!menu) return;
    menu.node.remove();
    menu = null;
    if (latest && latest.version !== shown) render(latest);
  }

  function optionsOf(answer) {
    if (!answer) return [];
    if (answer.options) return answer.options;
    return (answer.option_groups || []).flatMap((group) => group.options);
  }

  async function loadOptions(trigger, query) {
    if (trigger.dataset.kind === "static_select") {
      const all = JSON.parse(trigger.dataset.options || "[]");
      return all.filter((o) => o.text.text.toLowerCase().includes(query.toLowerCase()));
    }
    const answer = await post("/sandbox/options", Object.assign(where(trigger), { value: query }));
    return optionsOf(answer && answer.body);
  }

  function showOptions(list, options, trigger) {
    list.replaceChildren();
    if (!options.length) list.appendChild(el("li", "no-options", "No results"));
    options.forEach((option) => {
      const item = el("li", "option", option.text.text);
      item.setAttribute("role", "option");
      item.addEventListener("click", () => {
        trigger.textContent = option.text.text;  // Slack shows the pick at once
        trigger.classList.remove("placeholder");
        closeMenu();
        act(trigger, { selected_option: option });
      });
      list.appendChild(item);
    });
  }

  function openMenu(trigger) {
    closeMenu();
    const node = el("div", "select-menu");
    const search = el("input", "select-search");
    search.placeholder = "Type to search";
    search.setAttribute("aria-label", `Search ${trigger.dataset.placeholder}`);
    const list = el("ul", "select-options");
    list.setAttribute("role", "listbox");
    node.append(search, list);
    trigger.parentElement.appendChild(node);
    menu = { node, trigger, seq: 0 };
    const mine = menu;
    const lookUp = async () => {
      if (menu !== mine) return;  // closed while the keystroke waited
      const seq = ++mine.seq;
      try {
        const options = await loadOptions(trigger, search.value);
        if (menu === mine && seq === mine.seq) showOptions(list, options, trigger);
      } catch (error) {
        say(error.message, true);
      }
    };
    let timer = null;
    search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(lookUp, 150); });
    search.addEventListener("keydown", (event) => { if (event.key === "Escape") closeMenu(); });
    search.focus();
    lookUp();
  }

  channel.addEventListener("click", (event) => {
    const target = event.target.closest("button[data-kind]");
    if (!target) return;
    if (target.dataset.kind === "button") {
      if (target.dataset.confirm) confirmThen(target);
      else act(target);
    } else if (menu && menu.trigger === target) closeMenu();
    else openMenu(target);
  });

  document.addEventListener("click", (event) => {
    if (menu && !menu.node.contains(event.target) && event.target !== menu.trigger) closeMenu();
  });

  document.getElementById("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = document.getElementById("composer-input");
    const text = input.value.trim();
    if (!text) return;
    if (!text.startsWith("/")) {
      say("In the sandbox only slash commands do something: try /costcodes.", true);
      return;
    }
    input.value = "";
    try {
      await post("/sandbox/command", { text });
      refresh();  // like Slack, the command itself is not shown; the bot's answer is
    } catch (error) {
      say(error.message, true);
    }
  });

  document.getElementById("run-web-connector").addEventListener("click", async (event) => {
    event.target.disabled = true;
    try {
      const report = await post("/sandbox/webconnector");
      document.getElementById("web-connector").textContent = describeUpdate(report);
      refresh();
    } catch (error) {
      say(error.message, true);
    } finally {
      event.target.disabled = false;
    }
  });

  poll();
})();
