/* Show a story's summary rendered beside the field, as the site will show it, while it is typed.
 *
 * The field names the preview endpoint (data-markdown-preview). The server renders with the
 * same Markdown renderer and sanitiser as a save, so the HTML put in the panel is the
 * sanitiser's output. A request goes out 300 ms after the last keystroke, at most one at a
 * time: typing meanwhile sends the latest text when the answer is back.
 */
"use strict";

(function () {
  const DELAY_MS = 300;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    node.className = className;
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function attach(field) {
    const url = field.dataset.markdownPreview;
    const panel = element("section", "markdown-preview");
    panel.setAttribute("aria-label", "Preview of the summary");
    const status = element("p", "markdown-preview-status");
    status.setAttribute("role", "status");
    const problems = element("ul", "markdown-preview-problems errorlist");
    const body = element("div", "markdown-preview-body");
    panel.append(status, problems, body);
    field.insertAdjacentElement("afterend", panel);
    field.parentElement.classList.add("with-markdown-preview");

    let timer = null;
    let inFlight = false;
    let again = false;
    let shown = null;

    function state(name, text) {
      panel.dataset.state = name;
      status.textContent = text;
    }

    async function ask(text) {
      const token = field.form && field.form.querySelector("input[name=csrfmiddlewaretoken]");
      const response = await fetch(url, {
        method: "POST",
        body: text,
        credentials: "same-origin",
        headers: { "Content-Type": "text/plain; charset=utf-8", "X-CSRFToken": token ? token.value : "" },
      });
      if (response.redirected) {
        throw new Error("your session has ended; save the story to log in again.");
      }
      let answer = null;
      try {
        answer = await response.json();
      } catch (error) {
        answer = null;
      }
      if (!response.ok || !answer || typeof answer.html !== "string") {
        throw new Error((answer && answer.error) || `the server answered ${response.status}.`);
      }
      return answer;
    }

    async function update() {
      if (inFlight) {
        again = true;
        return;
      }
      const text = field.value;
      if (text === shown) {
        state("ready", "Preview");
        return;
      }
      inFlight = true;
      state("updating", "Updating…");
      try {
        const answer = await ask(text);
        body.innerHTML = answer.html; // the sanitiser's output, as the site shows it
        if (!answer.html) {
          body.append(element("p", "markdown-preview-empty", "Nothing to preview yet."));
        }
        problems.replaceChildren(...answer.problems.map((problem) => element("li", "", problem)));
        shown = text;
        state("ready", "Preview");
      } catch (error) {
        state("error", `Preview not updated: ${error.message}`);
      } finally {
        inFlight = false;
        if (again) {
          again = false;
          update();
        }
      }
    }

    field.addEventListener("input", function () {
      clearTimeout(timer);
      if (!inFlight) {
        state("updating", "Updating…");
      }
      timer = setTimeout(update, DELAY_MS);
    });
    update();
  }

  function start() {
    document.querySelectorAll("textarea[data-markdown-preview]").forEach(attach);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
