// Renders Slack messages (Block Kit, attachments, mrkdwn) the way a Slack client shows them.
// Interactive elements carry data-* attributes; sandbox.js wires them to the bot.
"use strict";

const SandboxBlocks = (() => {
  // Glyphs that the fonts every Linux browser has can draw (no emoji font needed).
  const EMOJI = {
    warning: "⚠", white_check_mark: "✔", heavy_check_mark: "✔", no_entry: "✖", x: "✖",
    construction: "⚠", hourglass: "◷", clipboard: "☰", information_source: "ℹ",
  };
  const COLORS = { warning: "#daa038", good: "#2eb67d", danger: "#e01e5a" };
  let users = {};

  function setUsers(known) { users = known; }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }

  // Slack escapes & < > in message text; show them as the characters they stand for.
  function unescapeSlack(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function formatDate(epoch, format, fallback) {
    const at = new Date(Number(epoch) * 1000);
    if (Number.isNaN(at.getTime())) return fallback;
    if (format.includes("{ago}")) {
      const minutes = Math.round((Date.now() - at.getTime()) / 60000);
      if (minutes < 1) return "just now";
      return minutes < 60 ? `${minutes} minute${minutes === 1 ? "" : "s"} ago` : fallback;
    }
    return at.toLocaleString(undefined, {
      month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    });
  }

  // One <…> token: a mention, a date, a user group, or a link.
  function token(inner) {
    const [target, label] = inner.split("|", 2);
    if (target.startsWith("@")) {
      const name = users[target.slice(1)] || target.slice(1);
      return `<span class="mention">@${escapeHtml(name)}</span>`;
    }
    if (target.startsWith("!date^")) {
      const [, epoch, format] = target.split("^");
      return escapeHtml(formatDate(epoch, format || "", unescapeSlack(label || "")));
    }
    if (target.startsWith("!subteam^")) {
      return `<span class="mention">@${escapeHtml(target.slice(9))}</span>`;
    }
    if (target.startsWith("!")) return `<span class="mention">@${escapeHtml(target.slice(1))}</span>`;
    const text = escapeHtml(unescapeSlack(label || target));
    return `<a href="${escapeHtml(unescapeSlack(target))}" rel="noopener" target="_blank">${text}</a>`;
  }

  function styled(html) {
    return html
      .replace(/```([\s\S]+?)```/g, "<pre>$1</pre>")
      .replace(/`([^`\n]+)`/g, "<code>$1</code>")
      .replace(/(^|[\s(>])\*([^*\n]+)\*(?=$|[\s).,:;!?<])/g, "$1<b>$2</b>")
      .replace(/(^|[\s(>])_([^_\n]+)_(?=$|[\s).,:;!?<])/g, "$1<i>$2</i>")
      .replace(/(^|[\s(>])~([^~\n]+)~(?=$|[\s).,:;!?<])/g, "$1<s>$2</s>")
      .replace(/:([a-z0-9_+-]+):/g, (whole, name) => (EMOJI[name]
        ? `<span class="emoji emoji-${name}" title=":${name}:">${EMOJI[name]}</span>` : whole))
      .replace(/\n/g, "<br>");
  }

  // mrkdwn → safe HTML: every piece of text is escaped before any markup is added.
  function mrkdwn(text) {
    const parts = String(text).split(/(<[^<>]*>)/);
    const html = parts.map((part) => {
      if (part.startsWith("<") && part.endsWith(">")) return token(part.slice(1, -1));
      return escapeHtml(unescapeSlack(part));
    }).join("");
    return styled(html);
  }

  function textNode(text, className) {
    const node = el("div", className);
    if (!text) return node;
    if (text.type === "mrkdwn") node.innerHTML = mrkdwn(text.text);
    else node.textContent = text.text;
    return node;
  }

  function button(element, where) {
    const node = el("button", "bk-button", element.text.text);
    node.type = "button";
    if (element.style) node.classList.add(element.style);
    node.dataset.kind = "button";
    Object.assign(node.dataset, where, { actionId: element.action_id });
    if (element.value !== undefined) node.dataset.value = element.value;
    if (element.confirm) node.dataset.confirm = JSON.stringify(element.confirm);
    return node;
  }

  function select(element, where) {
    const wrap = el("div", "bk-select");
    const trigger = el("button", "select-trigger");
    trigger.type = "button";
    trigger.setAttribute("aria-haspopup", "listbox");
    const chosen = element.initial_option;
    const placeholder = element.placeholder ? element.placeholder.text : "Select an item";
    trigger.textContent = chosen ? chosen.text.text : placeholder;
    trigger.classList.toggle("placeholder", !chosen);
    trigger.title = placeholder;
    trigger.setAttribute("aria-label", `${placeholder}: ${trigger.textContent}`);
    Object.assign(trigger.dataset, where, {
      kind: element.type, actionId: element.action_id, placeholder,
    });
    if (element.options) trigger.dataset.options = JSON.stringify(element.options);
    wrap.appendChild(trigger);
    return wrap;
  }

  // Ticks are shown; the sandbox sends no message state, so "ticked" reaches the bot empty.
  function checkboxes(element) {
    const node = el("div", "bk-checkboxes");
    (element.options || []).forEach((option) => {
      const label = el("label", "bk-checkbox");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = option.value;
      label.appendChild(box);
      label.appendChild(textNode(option.text, "bk-checkbox-text"));
      node.appendChild(label);
    });
    return node;
  }

  function element(item, where) {
    if (item.type === "button") return button(item, where);
    if (item.type === "checkboxes") return checkboxes(item);
    if (item.type === "static_select" || item.type === "external_select") return select(item, where);
    return el("span", "bk-unsupported", `[${item.type}]`);
  }

  function section(block, where) {
    const node = el("div", "bk-section");
    const body = el("div", "bk-section-body");
    if (block.text) body.appendChild(textNode(block.text, "bk-text"));
    if (block.fields) {
      const fields = el("div", "bk-fields");
      block.fields.forEach((field) => fields.appendChild(textNode(field, "bk-field")));
      body.appendChild(fields);
    }
    node.appendChild(body);
    if (block.accessory) node.appendChild(element(block.accessory, where));
    return node;
  }

  function block(item, ts) {
    const where = { ts, blockId: item.block_id || "" };
    let node;
    if (item.type === "header") node = textNode(item.text, "bk-header");
    else if (item.type === "section") node = section(item, where);
    else if (item.type === "context") {
      node = el("div", "bk-context");
      item.elements.forEach((part) => node.appendChild(textNode(part, "bk-context-part")));
    } else if (item.type === "actions") {
      node = el("div", "bk-actions");
      item.elements.forEach((part) => node.appendChild(element(part, where)));
    } else if (item.type === "divider") node = el("hr", "bk-divider");
    else node = el("div", "bk-unsupported", `[${item.type} block]`);
    node.classList.add("block", item.type);
    node.dataset.blockId = item.block_id || "";
    return node;
  }

  function attachment(item, ts) {
    const node = el("div", "attachment");
    node.style.borderLeftColor = COLORS[item.color] || item.color || "#ddd";
    node.dataset.color = item.color || "";
    (item.blocks || []).forEach((part) => node.appendChild(block(part, ts)));
    if (!item.blocks && item.text) node.appendChild(textNode({ type: "mrkdwn", text: item.text }));
    return node;
  }

  // The body of one message: its blocks (or its text), then its attachments.
  function body(message) {
    const node = el("div", "message-body");
    if (message.blocks && message.blocks.length) {
      message.blocks.forEach((item) => node.appendChild(block(item, message.ts)));
    } else {
      node.appendChild(textNode({ type: "mrkdwn", text: message.text }, "bk-text"));
    }
    (message.attachments || []).forEach((item) => node.appendChild(attachment(item, message.ts)));
    return node;
  }

  return { body, el, mrkdwn, setUsers };
})();
