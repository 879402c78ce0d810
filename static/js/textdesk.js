// textdesk: small progressive enhancements only (no build step, CSP-safe: no inline code).
(function () {
  "use strict";

  // Colours from data attributes (inline style attributes are blocked by our CSP).
  function paintColours(root) {
    root.querySelectorAll("[data-color]").forEach(function (el) {
      var colour = el.getAttribute("data-color");
      if (/^#?[0-9a-zA-Z(),.% ]{1,40}$/.test(colour)) {
        el.style.setProperty("--chip", colour.charAt(0) === "#" || /^[a-z]+$/i.test(colour) ? colour : "#" + colour);
      }
    });
  }

  // Flash messages fade after a while; errors stay until dismissed by a click.
  function settleFlashes(root) {
    root.querySelectorAll(".flash:not(.flash-error)").forEach(function (el) {
      setTimeout(function () { el.remove(); }, 6000);
    });
    root.querySelectorAll(".flash-error").forEach(function (el) {
      el.addEventListener("click", function () { el.remove(); });
    });
  }

  // A live "n of max characters" count after fields that carry data-maxcount (case notes).
  function countCharacters(root) {
    root.querySelectorAll("[data-maxcount]").forEach(function (field) {
      if (field.dataset.counted) { return; }
      field.dataset.counted = "1";
      var out = document.createElement("span");
      out.className = "char-count muted small";
      out.setAttribute("aria-live", "polite");
      field.insertAdjacentElement("afterend", out);
      var update = function () {
        var n = field.value.length, max = Number(field.dataset.maxcount);
        out.textContent = n + " of " + max + " characters";
        out.classList.toggle("text-danger", n > max);
      };
      field.addEventListener("input", update);
      update();
    });
  }

  function enhance(root) {
    paintColours(root);
    settleFlashes(root);
    countCharacters(root);
  }

  // Browser notifications: permission is asked once, from a click (Preferences or the inbox).
  function showNotificationState() {
    var state = !("Notification" in window) ? "This browser has no notifications."
      : Notification.permission === "granted" ? "Allowed."
      : Notification.permission === "denied" ? "Blocked in this browser's site settings." : "";
    document.querySelectorAll("[data-notification-state]").forEach(function (el) { el.textContent = state; });
    document.querySelectorAll("[data-action=ask-notifications]").forEach(function (el) {
      el.hidden = !("Notification" in window) || Notification.permission !== "default";
    });
  }
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("[data-action=ask-notifications]")) { return; }
    if ("Notification" in window) { Notification.requestPermission().then(showNotificationState); }
  });

  // "/" focuses search when not typing: the search page's own box, else the top bar's. The
  // inbox keeps "/" for its own list search (inbox.js).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) { return; }
    if (document.body.getAttribute("data-shortcuts") !== "on" || event.defaultPrevented) { return; }
    if (document.getElementById("conversation-list")) { return; }  // the inbox: inbox.js
    var el = event.target;
    if (el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName))) { return; }
    var box = document.querySelector("[data-search-box]") || document.getElementById("topbar-search");
    if (box) { event.preventDefault(); box.focus(); box.select(); }
  });

  document.addEventListener("DOMContentLoaded", function () { enhance(document); showNotificationState(); });
  document.addEventListener("htmx:afterSwap", function (event) { enhance(event.target); });
  window.textdesk = { enhance: enhance };
})();
