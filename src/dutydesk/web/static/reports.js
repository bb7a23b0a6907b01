// Report pages: "copy as Markdown" (the text is in a read-only textarea on the page).
(function () {
  "use strict";

  function copied(status, text) {
    if (status) status.textContent = text;
  }

  function copy(button) {
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var status = button.parentNode.querySelector("[data-copy-status]");
    var text = source.value !== undefined ? source.value : source.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { copied(status, "Copied."); },
        function () { fallback(source, status); }
      );
    } else {
      fallback(source, status);
    }
  }

  function fallback(source, status) {
    source.focus();
    source.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    copied(status, ok ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.");
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("button[data-copy]") : null;
    if (button) copy(button);
  });
})();
