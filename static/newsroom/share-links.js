/* Copy a share link's URL with one click.
 *
 * Each live link's URL is in a read-only field that can be selected by hand; where the
 * browser offers the clipboard, a Copy button beside it puts the URL there and says so.
 */
"use strict";

(function () {
  function copy(button) {
    const field = document.getElementById(button.dataset.copy);
    const status = button.parentElement.querySelector(".copy-status");
    navigator.clipboard.writeText(field.value).then(
      function () {
        status.textContent = "Copied";
      },
      function () {
        field.select();
        status.textContent = "Press Ctrl+C (⌘C) to copy";
      }
    );
  }

  function start() {
    if (!navigator.clipboard) {
      return; // the fields stay selectable
    }
    for (const button of document.querySelectorAll("button.copy-link[data-copy]")) {
      button.hidden = false;
      button.addEventListener("click", function () {
        copy(button);
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
