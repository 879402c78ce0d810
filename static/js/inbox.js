// The agent inbox: composer (counter, Enter to send, saved replies and @mentions, draft autosave), keyboard
// shortcuts, live-update housekeeping and focus. CSP-safe: no inline code, no eval.
(function () {
  "use strict";

  if (window.htmx) {
    // Bad input (400) and the stale-state guard (409) answer a region to show; other errors don't.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "400", swap: true, error: false },
      { code: "409", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
    ];
    // History is not cached (CSP, privacy): going back reloads the page, which shows the same state.
    htmx.config.refreshOnHistoryMiss = true;
    // Never settle "style": we use no inline styles, and copying an empty one breaks the CSP.
    htmx.config.attributesToSettle = ["class", "width", "height"];
  }

  // --- SMS segments: mirrors textdesk/conversations/segments.py ---------------------------------
  var GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXTENDED = "^{}\\[~]|€\f";

  function countSegments(text) {
    var chars = Array.from(text);
    var gsm = chars.every(function (ch) { return GSM_BASIC.indexOf(ch) >= 0 || GSM_EXTENDED.indexOf(ch) >= 0; });
    var sizes = chars.map(function (ch) {
      if (gsm) { return GSM_EXTENDED.indexOf(ch) >= 0 ? 2 : 1; }
      return ch.codePointAt(0) > 0xffff ? 2 : 1;
    });
    var single = gsm ? 160 : 70, multi = gsm ? 153 : 67;
    var units = sizes.reduce(function (a, b) { return a + b; }, 0);
    if (units <= single) {
      return { encoding: gsm ? "GSM-7" : "UCS-2", characters: chars.length, units: units, segments: units ? 1 : 0, remaining: single - units };
    }
    var parts = 1, used = 0;
    sizes.forEach(function (size) {
      if (used + size > multi) { parts += 1; used = 0; }
      used += size;
    });
    return { encoding: gsm ? "GSM-7" : "UCS-2", characters: chars.length, units: units, segments: parts, remaining: multi - used };
  }
  window.textdeskSegments = countSegments;

  function updateCounter(form) {
    var textarea = form.querySelector("textarea[name=body]");
    var counter = form.querySelector("[data-counter]");
    if (!textarea || !counter) { return; }
    var s = countSegments(textarea.value);
    var text = s.characters + (s.characters === 1 ? " character" : " characters") + " · " + s.segments + " SMS · " + s.remaining + " left";
    if (s.encoding === "UCS-2") { text += " · Unicode"; }
    counter.textContent = text;
    counter.title = s.encoding === "UCS-2"
      ? "An emoji or special character makes every part hold fewer characters (70, or 67 when split)"
      : "Plain text: 160 characters per text, 153 per part when split";
    counter.classList.toggle("is-long", s.segments > 1);
  }

  // --- Drafts: kept on the server per agent and conversation -----------------------------------
  var HIDDEN_POLL_MS = 10000;
  var lastHiddenPoll = 0;
  var draftTimer = null;
  var draftPending = null;

  function draftData(form) {
    var data = new FormData();
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    data.append("csrfmiddlewaretoken", token ? token.value : "");
    data.append("body", form.querySelector("textarea[name=body]").value);
    return data;
  }

  function saveDraftNow(useBeacon) {
    if (!draftPending) { return; }
    var form = draftPending;
    draftPending = null;
    clearTimeout(draftTimer);
    var url = form.getAttribute("data-draft-url");
    if (!url || !form.isConnected) { return; }
    if (useBeacon && navigator.sendBeacon) {
      navigator.sendBeacon(url, draftData(form));
      return;
    }
    fetch(url, { method: "POST", body: draftData(form), headers: { "X-Draft": "1" }, credentials: "same-origin", keepalive: true });
  }

  function scheduleDraft(form) {
    if (!form.hasAttribute("data-draft-url")) { return; }
    draftPending = form;
    clearTimeout(draftTimer);
    draftTimer = setTimeout(function () { saveDraftNow(false); }, 700);
  }

  function cancelDraft(form) {
    if (draftPending === form) { draftPending = null; clearTimeout(draftTimer); }
  }

  // --- Pickers: "/" saved replies in the composer, "@" colleagues in the note form ----------------
  // A textarea with data-picker="<listbox id>" (an ARIA combobox) opens that listbox while the
  // word before the caret starts with the list's data-trigger. Each option carries data-match
  // (words a typed prefix finds) and data-insert (what replaces the trigger and the word).
  var TRIGGERS = {
    "/": /(^|\s)\/([\w-]*)$/,
    "@": /(^|[^\w@])@([\w.+-]*)$/,  // as services.MENTION: not inside an address
  };

  function pickerFor(textarea) {
    var id = textarea.getAttribute("data-picker");
    return id ? document.getElementById(id) : null;
  }

  function typedWord(textarea, list) {
    var before = textarea.value.slice(0, textarea.selectionStart);
    var match = TRIGGERS[list.getAttribute("data-trigger")].exec(before);
    return match ? { start: before.length - match[2].length - 1, word: match[2] } : null;
  }

  function visibleOptions(list) {
    return Array.from(list.querySelectorAll("[role=option]:not(.is-hidden)"));
  }

  function selectOption(textarea, list, option) {
    list.querySelectorAll("[aria-selected=true]").forEach(function (el) { el.setAttribute("aria-selected", "false"); });
    if (option) {
      option.setAttribute("aria-selected", "true");
      option.scrollIntoView({ block: "nearest" });
      textarea.setAttribute("aria-activedescendant", option.id);
    } else {
      textarea.removeAttribute("aria-activedescendant");
    }
  }

  function closePicker(textarea, list) {
    list.hidden = true;
    textarea.setAttribute("aria-expanded", "false");
    selectOption(textarea, list, null);
  }

  function refreshPicker(textarea) {
    var list = pickerFor(textarea);
    if (!list) { return; }
    var typed = typedWord(textarea, list);
    if (!typed) { closePicker(textarea, list); return; }
    var url = list.getAttribute("data-options-url");
    if (url) {  // options kept on the server: fetched once, then filtered here as for the others
      list.removeAttribute("data-options-url");
      htmx.ajax("GET", url, { target: list, swap: "innerHTML" });
    }
    var word = typed.word.toLowerCase();
    list.querySelectorAll("[role=option]").forEach(function (option) {
      var words = option.getAttribute("data-match").toLowerCase().split(/\s+/);
      option.classList.toggle("is-hidden", !words.some(function (w) { return w.indexOf(word) === 0; }));
    });
    var options = visibleOptions(list);
    list.hidden = options.length === 0;
    textarea.setAttribute("aria-expanded", String(!list.hidden));
    if (list.hidden) {
      selectOption(textarea, list, null);
    } else if (!list.querySelector("[aria-selected=true]:not(.is-hidden)")) {
      selectOption(textarea, list, options[0]);
    }
  }

  function pick(textarea, option) {
    var list = pickerFor(textarea);
    var typed = list && typedWord(textarea, list);
    if (!typed || !option) { return; }
    var text = option.getAttribute("data-insert");
    var value = textarea.value;
    textarea.value = value.slice(0, typed.start) + text + value.slice(textarea.selectionStart);
    var caret = typed.start + text.length;
    textarea.setSelectionRange(caret, caret);
    closePicker(textarea, list);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function pickerKeydown(event, textarea) {
    var list = pickerFor(textarea);
    if (!list || list.hidden) { return false; }
    var options = visibleOptions(list);
    var current = options.indexOf(list.querySelector("[aria-selected=true]"));
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      var next = event.key === "ArrowDown" ? current + 1 : current - 1;
      selectOption(textarea, list, options[(next + options.length) % options.length]);
    } else if (event.key === "Enter" || event.key === "Tab") {
      pick(textarea, options[Math.max(current, 0)]);
    } else if (event.key === "Escape") {
      closePicker(textarea, list);
    } else {
      return false;
    }
    event.preventDefault();
    event.stopPropagation();
    return true;
  }

  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest(".picker [role=option]");
    if (!option) { return; }
    event.preventDefault();  // the textarea keeps the focus and its caret
    var textarea = document.querySelector('[data-picker="' + option.closest(".picker").id + '"]');
    if (textarea) { pick(textarea, option); }
  });

  document.addEventListener("input", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-picker")) { refreshPicker(event.target); }
  });

  // Options that arrive while the person types (the note form's colleagues, on the first @).
  document.addEventListener("htmx:afterSwap", function (event) {
    var list = event.detail.target;
    if (!list.classList || !list.classList.contains("picker")) { return; }
    var textarea = document.querySelector('[data-picker="' + list.id + '"]');
    if (textarea && document.activeElement === textarea) { refreshPicker(textarea); }
  });

  document.addEventListener("keydown", function (event) {
    var textarea = event.target;
    if (textarea.tagName === "TEXTAREA" && textarea.hasAttribute("data-picker")) { pickerKeydown(event, textarea); }
  }, true);

  // --- Composer: Enter sends, Shift+Enter makes a new line --------------------------------------
  document.addEventListener("input", function (event) {
    var form = event.target.closest("[data-composer]");
    if (!form || event.target.name !== "body") { return; }
    updateCounter(form);
    scheduleDraft(form);
  });

  document.addEventListener("keydown", function (event) {
    var textarea = event.target;
    if (textarea.tagName !== "TEXTAREA" || textarea.name !== "body") { return; }
    var form = textarea.closest("[data-composer]");
    if (!form) { return; }
    if (event.defaultPrevented) { return; }  // the picker took the key
    if (event.key === "Escape") { textarea.blur(); return; }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      if (form.classList.contains("htmx-request") || !textarea.value.trim()) { return; }
      // With "Send later" open, Enter schedules: a text meant for later never leaves now by a
      // reflex. A click (not requestSubmit) is what tells htmx which button submitted.
      var later = form.querySelector("details.send-later[open] button[name=when]");
      if (later) { later.click(); } else { form.requestSubmit(); }
    }
  });

  document.addEventListener("submit", function (event) {
    if (event.target.matches("[data-composer]")) { cancelDraft(event.target); }
  }, true);

  // A poll answered after the agent moved on (another conversation, other filters) describes a
  // page that is gone: its regions name what they are for, and stale ones are not swapped in.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
    var current = event.detail.target;
    if (!incoming || !current) { return; }
    ["data-conversation", "data-query"].forEach(function (name) {
      if (incoming.hasAttribute(name) && current.hasAttribute(name) &&
          incoming.getAttribute(name) !== current.getAttribute(name)) {
        event.detail.shouldSwap = false;
      }
    });
  });

  // An answer whose requesting element was replaced while it was in flight (a row clicked just
  // as the list redrew, a filter typed just as a conversation opened) would have its out-of-band
  // regions looked up inside that detached element, where htmx finds none and drops them. Swap
  // those regions from the document instead (the guard above still applies); the rest goes on.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var elt = detail.requestConfig && detail.requestConfig.elt;
    if (!detail.shouldSwap || !elt || elt.isConnected || typeof detail.serverResponse !== "string") { return; }
    var answer = document.createElement("template");
    answer.innerHTML = detail.serverResponse;
    var regions = Array.prototype.filter.call(answer.content.children, function (el) {
      return el.hasAttribute("hx-swap-oob");
    });
    if (!regions.length) { return; }
    var oob = regions.map(function (el) { el.remove(); return el.outerHTML; }).join("");
    detail.serverResponse = answer.innerHTML;
    htmx.swap(document.body, oob, { swapStyle: "none" });
  });

  // Save a draft before the page or the conversation goes away.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "live") {
      // A hidden tab polls every 10 s instead of every 1.5 s: enough for the title count and
      // notifications of new texts, and mostly 204s.
      var now = Date.now();
      if (document.hidden && now - lastHiddenPoll < HIDDEN_POLL_MS) { event.preventDefault(); return; }
      if (document.hidden) { lastHiddenPoll = now; }
      return;
    }
    if (elt && !elt.matches("[data-composer]")) { saveDraftNow(false); }
  });
  window.addEventListener("pagehide", function () { saveDraftNow(true); });
  document.addEventListener("visibilitychange", function () {
    var live = document.getElementById("live");
    if (!document.hidden && live && window.htmx) { htmx.trigger(live, "inbox:changed"); }
  });

  // --- The guard's snapshot: the agent's own actions update the parts they change ---------------
  document.body.addEventListener("inbox:seen", function (event) {
    var patch = event.detail || {};
    document.querySelectorAll("input[name=seen]").forEach(function (input) {
      var parts = {};
      input.value.split(";").forEach(function (item) {
        var at = item.indexOf("=");
        if (at > 0) { parts[item.slice(0, at)] = item.slice(at + 1); }
      });
      ["r", "p"].forEach(function (key) { if (typeof patch[key] === "string") { parts[key] = patch[key]; } });
      input.value = Object.keys(parts).map(function (key) { return key + "=" + parts[key]; }).join(";");
    });
  });

  // --- Thread scrolling: stay at the newest text unless the agent scrolled up -------------------
  var stickToBottom = true;
  document.addEventListener("scroll", function (event) {
    if (event.target.id === "thread-scroll") {
      var el = event.target;
      stickToBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    }
  }, true);

  function scrollThread(force) {
    var el = document.getElementById("thread-scroll");
    if (el && (force || stickToBottom)) { el.scrollTop = el.scrollHeight; stickToBottom = true; }
  }

  // --- Title, selection, panels ------------------------------------------------------------------
  function updateTitle() {
    var lines = document.getElementById("lines");
    if (!lines) { return; }  // no line to work: keep the server's title
    var title = document.getElementById("thread-title");
    var current = document.querySelector(".lines-pane a[aria-current=page] .line-name");
    var unread = lines ? parseInt(lines.getAttribute("data-unread") || "0", 10) : 0;
    var parts = [];
    if (title && document.querySelector("#conversation[data-open]")) { parts.push(title.textContent.trim()); }
    if (current) { parts.push(current.textContent.trim()); }
    parts.push("textdesk");
    document.title = (unread > 0 ? "(" + unread + ") " : "") + parts.join(" · ");
  }

  function markOpenRow() {
    var pane = document.getElementById("conversation");
    var open = pane ? pane.getAttribute("data-open") : null;
    document.querySelectorAll("#rows .row").forEach(function (row) {
      var isOpen = open && row.id === "row-" + open;
      row.classList.toggle("is-open", !!isOpen);
      var link = row.querySelector(".row-link");
      if (isOpen) { link.setAttribute("aria-current", "true"); } else { link.removeAttribute("aria-current"); }
    });
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (!event.detail.successful || !elt || !elt.closest) { return; }
    var details = elt.closest("details[data-close-on-success]");
    if (details && details.isConnected) { details.open = false; }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (target && target.id === "conversation") {
      scrollThread(true);
      markOpenRow();
    } else if (target && target.id === "composer") {
      scrollThread(false);
      var textarea = target.querySelector("textarea[name=body]:not([disabled])");
      if (textarea && !target.querySelector(".guard, .form-error")) { textarea.focus(); }
    } else {
      scrollThread(false);
    }
    if (target && (target.id === "conversation-list" || target.id === "list-more")) { markOpenRow(); }
    updateTitle();
  });
  document.addEventListener("htmx:oobAfterSwap", function () { scrollThread(false); markOpenRow(); updateTitle(); });

  // --- Bulk selection: click, Shift+click for a range, "s" on the focused row, or every
  // conversation matching the list's filter (counted on the server, across pages) -------------
  var bulkSelected = new Set();
  var bulkAll = false;
  var lastChecked = null;

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.from(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function rowChecks() { return Array.from(document.querySelectorAll("#rows .row-check")); }

  function syncBulk() {
    var form = document.getElementById("bulk-form");
    if (!form) { return; }
    rowChecks().forEach(function (box) {
      box.checked = bulkAll || bulkSelected.has(box.value);
      box.closest(".row").classList.toggle("is-checked", box.checked);
    });
    form.hidden = !bulkAll && bulkSelected.size === 0;
    form.querySelector("[name=all]").value = bulkAll ? "1" : "";
    var list = document.getElementById("conversation-list");
    form.querySelector("[name=filter]").value = list ? (list.getAttribute("data-query") || "") : "";
    if (!bulkAll) { document.getElementById("bulk-count").textContent = bulkSelected.size + " selected"; }
  }

  function toggleRow(box, checked) {
    if (checked) { bulkSelected.add(box.value); } else { bulkSelected.delete(box.value); }
  }

  document.addEventListener("click", function (event) {
    var box = event.target.closest && event.target.closest(".row-check");
    if (box) {
      bulkAll = false;
      var boxes = rowChecks();
      if (event.shiftKey && lastChecked && boxes.indexOf(lastChecked) >= 0) {
        var a = boxes.indexOf(lastChecked), b = boxes.indexOf(box);
        boxes.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (other) { toggleRow(other, box.checked); });
      } else {
        toggleRow(box, box.checked);
      }
      lastChecked = box;
      syncBulk();
      return;
    }
    var action = event.target.closest && event.target.closest("[data-action]");
    if (!action) { return; }
    if (action.getAttribute("data-action") === "clear-selection") {
      bulkSelected.clear(); bulkAll = false; syncBulk();
    } else if (action.getAttribute("data-action") === "select-all-matching") {
      var form = document.getElementById("bulk-form");
      syncBulk();
      var filter = form.querySelector("[name=filter]").value;
      fetch(form.getAttribute("data-count-url") + "?filter=" + encodeURIComponent(filter), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r); })
        .then(function (count) {
          bulkAll = true;
          syncBulk();
          document.getElementById("bulk-count").textContent = "All " + Number(count).toLocaleString() + " matching selected";
        });
    }
  });

  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "bulk-form" && !bulkAll) {
      // Rows selected before the list was redrawn are not in the DOM any more.
      event.detail.parameters["ids"] = Array.from(bulkSelected);
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.id !== "bulk-form" || !event.detail.successful) { return; }
    form.querySelector("[name=client_key]").value = newKey();
    bulkSelected.clear(); bulkAll = false; syncBulk();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "conversation-list" && event.detail.requestConfig &&
        event.detail.requestConfig.elt && event.detail.requestConfig.elt.id === "list-filters") {
      bulkAll = false;  // a new filter: "all matching" meant the old one
    }
    syncBulk();
  });
  document.addEventListener("htmx:oobAfterSwap", syncBulk);

  function toggleFocusedRow() {
    var row = (document.activeElement && document.activeElement.closest && document.activeElement.closest("#rows .row")) ||
      document.querySelector("#rows .row.is-selected");
    var box = row && row.querySelector(".row-check");
    if (!box) { return false; }
    box.checked = !box.checked;
    bulkAll = false;
    toggleRow(box, box.checked);
    lastChecked = box;
    syncBulk();
    return true;
  }

  // --- Notifications: a text arrived on one of my lines while this tab is hidden ---------------
  var lastUnread = null;
  function unreadByLine() {
    var counts = {};
    document.querySelectorAll("#lines [data-line-pk]").forEach(function (a) {
      counts[a.getAttribute("data-line-pk")] = {
        count: parseInt(a.getAttribute("data-line-unread") || "0", 10),
        name: (a.querySelector(".line-name") || a).textContent.trim(),
      };
    });
    return counts;
  }
  function beep() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return; }
    var ctx = new Ctx(), osc = ctx.createOscillator(), gain = ctx.createGain();
    osc.frequency.value = 880; gain.gain.value = 0.08;
    osc.connect(gain); gain.connect(ctx.destination);
    osc.start(); osc.stop(ctx.currentTime + 0.18);
    osc.onended = function () { ctx.close(); };
  }
  function checkArrivals() {
    var now = unreadByLine();
    var before = lastUnread;
    lastUnread = now;
    if (!before || !document.hidden) { return; }
    var news = Object.keys(now).filter(function (pk) { return before[pk] && now[pk].count > before[pk].count; });
    if (!news.length) { return; }
    var inbox = document.getElementById("inbox");
    if (inbox && inbox.getAttribute("data-notify-sound") === "1") { try { beep(); } catch (e) { /* no audio */ } }
    if (inbox && inbox.getAttribute("data-notify-desktop") === "1" && "Notification" in window && Notification.permission === "granted") {
      var names = news.map(function (pk) { return now[pk].name; }).join(", ");
      var note = new Notification("New text on " + names, { body: "Open textdesk to reply.", tag: "textdesk-new-text" });
      note.onclick = function () { window.focus(); note.close(); };
    }
  }
  // SLA alerts: the top bar's count went up (the live poll swapped the badge in).
  // The page draws it without a count and fetches it once: that first count is the baseline.
  var lastAlerts = null;
  function checkAlerts() {
    var badge = document.getElementById("notification-badge");
    if (!badge || !badge.hasAttribute("data-unread")) { return; }
    var count = parseInt(badge.getAttribute("data-unread"), 10);
    var before = lastAlerts;
    lastAlerts = count;
    if (before === null || count <= before) { return; }
    var inbox = document.getElementById("inbox");
    if (inbox && inbox.getAttribute("data-notify-desktop") === "1" && "Notification" in window && Notification.permission === "granted") {
      var note = new Notification("Service-level alert", { body: "A conversation is close to or past its target.", tag: "textdesk-sla" });
      note.onclick = function () { window.focus(); window.location.href = badge.getAttribute("href"); note.close(); };
    }
  }
  document.addEventListener("htmx:afterSettle", checkAlerts);
  document.addEventListener("htmx:oobAfterSwap", checkAlerts);
  document.addEventListener("DOMContentLoaded", checkArrivals);
  // Cheap (reads a few attributes): after any swap, the lines' counts may have moved.
  document.addEventListener("htmx:oobAfterSwap", checkArrivals);
  document.addEventListener("htmx:afterSettle", checkArrivals);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { lastUnread = unreadByLine(); } });
  window.textdeskCheckArrivals = checkArrivals;

  // --- Location request: the composer button inserts Text Request's tag at the cursor --------
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-action=insert-location]");
    if (!button) { return; }
    var form = button.closest("form");
    var textarea = form && form.querySelector("textarea[name=body]");
    if (!textarea || textarea.value.indexOf("[LocationRequest]") >= 0) { return; }
    var at = textarea.selectionStart || textarea.value.length;
    var before = textarea.value.slice(0, at), after = textarea.value.slice(at);
    var tag = (before && !/\s$/.test(before) ? " " : "") + "[LocationRequest]" + (after && !/^\s/.test(after) ? " " : "");
    textarea.value = before + tag + after;
    textarea.focus();
    textarea.selectionStart = textarea.selectionEnd = (before + tag).length;
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // --- Who is here: a colleague typing a reply makes Send ask first -----------------------------
  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail.elt;
    if (!elt || elt.id !== "composer") { return; }
    var presence = document.getElementById("presence");
    var typing = presence ? (presence.getAttribute("data-typing") || "").split(";").filter(Boolean) : [];
    if (!typing.length) { return; }
    event.preventDefault();
    if (window.confirm(typing.join(", ") + (typing.length > 1 ? " are" : " is") + " typing a reply to this customer. Send yours anyway?")) {
      event.detail.issueRequest(true);
    }
  });


  // --- Keyboard shortcuts (WCAG 2.1.4: can be switched off in Preferences) ----------------------
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true], dialog");
  }

  function rowLinks() { return Array.from(document.querySelectorAll("#rows .row-link")); }

  function moveSelection(step) {
    var links = rowLinks();
    if (!links.length) { return; }
    var current = links.indexOf(document.activeElement);
    if (current < 0) { current = links.findIndex(function (a) { return a.closest(".row").classList.contains("is-selected"); }); }
    if (current < 0) { current = links.findIndex(function (a) { return a.getAttribute("aria-current") === "true"; }); }
    var next = current < 0 ? 0 : Math.min(Math.max(current + step, 0), links.length - 1);
    links.forEach(function (a) { a.closest(".row").classList.remove("is-selected"); });
    links[next].closest(".row").classList.add("is-selected");
    links[next].focus();
  }

  function clickKey(key) {
    var button = document.querySelector("#conversation-status [data-key='" + key + "']");
    if (button) { button.click(); }
  }

  function openHelp() {
    var dialog = document.getElementById("shortcuts-help");
    if (dialog && !dialog.open) { dialog.showModal(); }
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-action=help]")) { openHelp(); }
  });

  document.addEventListener("keydown", function (event) {
    if (document.body.getAttribute("data-shortcuts") !== "on") { return; }
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || event.isComposing) { return; }
    if (typing(event.target)) { return; }
    var handled = true;
    switch (event.key) {
      case "j": moveSelection(1); break;
      case "k": moveSelection(-1); break;
      case "o": {
        var selected = document.querySelector("#rows .row.is-selected .row-link") ||
          (document.activeElement && document.activeElement.matches(".row-link") ? document.activeElement : null);
        if (selected) { selected.click(); } else { handled = false; }
        break;
      }
      case "r": {
        var reply = document.querySelector("#composer textarea[name=body]:not([disabled])");
        if (reply) { reply.focus(); } else { handled = false; }
        break;
      }
      case "e": clickKey("e"); break;
      case "x": clickKey("x"); break;
      case "s": handled = toggleFocusedRow(); break;
      case "t": {
        var details = document.getElementById("tag-details");
        if (details) {
          details.open = true;
          var first = details.querySelector("input, button");
          if (first) { first.focus(); }
        } else { handled = false; }
        break;
      }
      case "/": {
        var search = document.getElementById("id_q");
        if (search) { search.focus(); search.select(); } else { handled = false; }
        break;
      }
      case "?": openHelp(); break;
      default: handled = false;
    }
    if (handled) { event.preventDefault(); }
  });

  // --- Attachments (MMS): previews before sending, remove-before-send, type and size checks ------
  // Mirrors textdesk/textrequest/mms.py; the server checks again (the form works without JS).
  var MMS_TYPES = ["csv", "jpeg", "jpg", "png", "pdf", "gif", "txt", "xlsx", "mp4", "vcard", "vcf"];
  var MMS_IMAGES = ["jpeg", "jpg", "png", "gif"];
  var MB = 1024 * 1024;

  function fileProblem(file) {
    var ext = file.name.indexOf(".") >= 0 ? file.name.split(".").pop().toLowerCase() : "";
    if (MMS_TYPES.indexOf(ext) < 0) {
      return "“" + file.name + "” cannot be sent: attach a JPEG, PNG, GIF, PDF, CSV, TXT, XLSX, MP4 or vCard (VCF) file.";
    }
    if (file.size === 0) { return "“" + file.name + "” is empty."; }
    var limit = ext === "pdf" ? MB : 5 * MB;
    if (file.size > limit) {
      return "“" + file.name + "” is " + (file.size / MB).toFixed(1) + " MB: " +
        (ext === "pdf" ? "A PDF" : "A file") + " can be at most " + (limit / MB) + " MB.";
    }
    return "";
  }

  function setFiles(input, files) {
    var transfer = new DataTransfer();
    files.forEach(function (file) { transfer.items.add(file); });
    input.files = transfer.files;
  }

  function drawPreviews(input) {
    var form = input.closest("[data-composer]");
    var list = form.querySelector("[data-attach-previews]");
    list.querySelectorAll("img").forEach(function (img) { URL.revokeObjectURL(img.src); });
    list.textContent = "";
    Array.from(input.files).forEach(function (file, index) {
      var item = document.createElement("li");
      var ext = file.name.split(".").pop().toLowerCase();
      if (MMS_IMAGES.indexOf(ext) >= 0) {
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = "";
        item.appendChild(img);
      }
      var name = document.createElement("span");
      name.className = "attach-name";
      name.textContent = file.name;
      item.appendChild(name);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-small btn-quiet";
      remove.dataset.removeAttachment = String(index);
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove " + file.name);
      item.appendChild(remove);
      list.appendChild(item);
    });
    list.hidden = input.files.length === 0;
  }

  function showAttachError(input, message) {
    var box = input.closest("[data-composer]").querySelector("[data-attach-error]");
    box.textContent = message;
    box.hidden = !message;
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches("[data-attach]")) { return; }
    var kept = input.keptFiles || [];
    var problems = [];
    Array.from(input.files).forEach(function (file) {
      var problem = fileProblem(file);
      if (problem) { problems.push(problem); return; }
      if (kept.length >= Number(input.dataset.maxFiles)) {
        problems.push("A text can carry at most " + input.dataset.maxFiles + " files; “" + file.name + "” was left out.");
        return;
      }
      kept.push(file);
    });
    input.keptFiles = kept;
    setFiles(input, kept);
    showAttachError(input, problems.join(" "));
    drawPreviews(input);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-attachment]");
    if (!button) { return; }
    var form = button.closest("[data-composer]");
    var input = form.querySelector("[data-attach]");
    var kept = Array.from(input.files);
    kept.splice(Number(button.dataset.removeAttachment), 1);
    input.keptFiles = kept;
    setFiles(input, kept);
    showAttachError(input, "");
    drawPreviews(input);
    form.querySelector("textarea").focus();
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-composer]").forEach(updateCounter);
    document.documentElement.classList.add("js-attach");  // previews replace the native input
    // Opened from search at one text: show it in the middle, not the newest at the bottom.
    var params = new URLSearchParams(location.search);
    var target = document.querySelector("#thread-log .is-target") ||
      (params.get("at") && document.getElementById("m-" + params.get("at")));
    var scroller = document.getElementById("thread-scroll");
    if (target && scroller) {
      // Centre it in the thread's own scroller (scrollIntoView would move the page too).
      scroller.scrollTop += target.getBoundingClientRect().top - scroller.getBoundingClientRect().top -
        scroller.clientHeight / 2 + target.offsetHeight / 2;
      stickToBottom = false;
      if (target.classList.contains("is-target")) { target.focus({ preventScroll: true }); }
    } else {
      scrollThread(true);
    }
    updateTitle();
  });
})();
