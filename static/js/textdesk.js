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

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (event) { enhance(event.target); });
  window.textdesk = { enhance: enhance };
})();
