// The inbox's keyboard: j/k move between posts, d dismisses, s makes a story of the current
// post. Single-key shortcuts can be turned off (WCAG 2.1.4), and the choice is remembered;
// they never fire while typing in a field or with a modifier key held. Every action is also
// a button on its row, so nothing needs this script. (No inline script: the CSP allows files only.)
(function () {
  "use strict";
  var STORAGE_KEY = "intake.inbox.shortcuts";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    var table = document.getElementById("result_list");
    var toggle = document.getElementById("inbox-shortcuts");
    if (!table || !toggle) return;
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    var current = -1;
    var status = document.createElement("p");
    status.className = "inbox-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    document.getElementById("inbox-keys").appendChild(status);

    function enabled() {
      return toggle.checked;
    }
    function remember() {
      try { window.localStorage.setItem(STORAGE_KEY, toggle.checked ? "on" : "off"); } catch (e) { /* private mode */ }
      document.getElementById("inbox-keys").classList.toggle("off", !toggle.checked);
    }
    try { toggle.checked = window.localStorage.getItem(STORAGE_KEY) !== "off"; } catch (e) { /* private mode */ }
    remember();
    toggle.addEventListener("change", remember);

    function select(index) {
      if (!rows.length) return;
      index = Math.max(0, Math.min(rows.length - 1, index));
      if (current >= 0) {
        rows[current].classList.remove("inbox-current");
        rows[current].removeAttribute("aria-current");
      }
      current = index;
      var row = rows[current];
      row.classList.add("inbox-current");
      row.setAttribute("aria-current", "true");
      var link = row.querySelector(".candidate-title");
      if (link) link.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }

    function dismiss(row) {
      var button = row.querySelector("button.dismiss");
      if (!button) return;
      var form = button.form;
      var body = new FormData();
      body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      var title = row.querySelector(".candidate-title").textContent;
      fetch(button.getAttribute("formaction"), {
        method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" }
      }).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      }).then(function (answer) {
        row.querySelector(".state").textContent = answer.state;
        row.classList.add("inbox-" + answer.state);
        row.querySelectorAll("button.dismiss, button.keep").forEach(function (b) { b.disabled = true; });
        status.textContent = (answer.changed ? "Dismissed: " : "Already used, not dismissed: ") + title;
        if (current === rows.indexOf(row)) select(current + 1);
      }).catch(function (error) {
        status.textContent = "Could not dismiss “" + title + "” (" + error.message + "). Use its Dismiss button.";
      });
    }

    document.addEventListener("keydown", function (event) {
      if (!enabled() || event.ctrlKey || event.metaKey || event.altKey) return;
      var target = event.target;
      if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
      var row = current >= 0 ? rows[current] : null;
      if (event.key === "j") select(current + 1);
      else if (event.key === "k") select(current < 0 ? 0 : current - 1);
      else if (event.key === "d" && row) dismiss(row);
      else if (event.key === "s" && row && row.querySelector("button.make-story")) row.querySelector("button.make-story").click();
      else return;
      event.preventDefault();
    });
  });
})();
