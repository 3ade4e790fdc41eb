/* Names for the admin's autocomplete widgets (Select2), which screen readers otherwise announce as nothing.
 *
 * Select2 hides the real <select> and draws its own combobox, named only by the chosen value (none while
 * empty), with a search box that has no label and a "remove all" cross inside its list. Each drawn widget
 * is given the name of its <select>'s label; the cross, a mouse-only control (Backspace does the same), is
 * hidden from assistive technology. Select2 redraws as choices change and rows are added, so the page is
 * watched for that.
 */
(function () {
  "use strict";

  function labelOf(select) {
    const label = select.labels && select.labels[0];
    if (!label) return null;
    if (!label.id) label.id = select.id + "-label";
    return label;
  }

  function name(container) {
    const select = container.previousElementSibling;
    if (!select || select.tagName !== "SELECT") return;
    const label = labelOf(select);
    if (!label) return;
    const words = label.textContent.replace(/:\s*$/, "").trim();
    const combobox = container.querySelector(".select2-selection");
    if (combobox) {
      const rendered = container.querySelector(".select2-selection--single .select2-selection__rendered");
      const wanted = rendered && rendered.id ? label.id + " " + rendered.id : label.id;
      if (combobox.getAttribute("aria-labelledby") !== wanted) combobox.setAttribute("aria-labelledby", wanted);
      // The chosen value is shown in a read-only textbox: named by the label, its text is the value.
      if (rendered && !rendered.hasAttribute("aria-labelledby")) rendered.setAttribute("aria-labelledby", label.id);
    }
    container.querySelectorAll(".select2-search__field:not([aria-label])").forEach(function (field) {
      field.setAttribute("aria-label", words);
    });
    container.querySelectorAll(".select2-selection__clear:not([aria-hidden])").forEach(function (cross) {
      cross.setAttribute("aria-hidden", "true");
    });
  }

  function nameAll() {
    document.querySelectorAll(".select2-container").forEach(name);
  }

  let queued = false;
  function queue() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(function () {
      queued = false;
      nameAll();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    nameAll();
    new MutationObserver(queue).observe(document.body, { childList: true, subtree: true });
  });
})();
