/* Order an issue's stories by dragging their rows, or with Move up / Move down and the section menu.
 *
 * The stories' inline table gets a heading row per section; a row belongs to the section whose
 * heading is above it. After each move every placed row's section and position fields are
 * rewritten in reading order, so saving goes through the same form, validation, version check
 * and approval as typed numbers would. Rows below "New rows" (added, not yet placed) keep what
 * their own fields say until they are moved into a section. Nothing is rewritten until the
 * editor moves something, so an untouched page has no changes.
 */
"use strict";

(function () {
  const SECTION = 'select[name$="-section"]';
  const POSITION = 'input[name$="-position"]';
  const STORY = 'select[name$="-story"]';

  function init(group) {
    const body = group.querySelector("tbody");
    const firstSelect = body && body.querySelector("tr.form-row:not(.empty-form) " + SECTION);
    if (!firstSelect) {
      return; // Read-only: nothing to order.
    }
    const columns = body.querySelector("tr.form-row").children.length;
    const sections = Array.from(firstSelect.options).filter((option) => option.value !== "");
    const status = document.createElement("p");
    status.className = "assembly-status visually-hidden";
    status.setAttribute("role", "status");
    group.appendChild(status);

    function heading(text, value) {
      const row = document.createElement("tr");
      row.className = "section-heading";
      if (value !== undefined) {
        row.dataset.section = value;
      }
      const cell = document.createElement("th");
      cell.colSpan = columns;
      cell.scope = "rowgroup";
      cell.textContent = text;
      row.appendChild(cell);
      return row;
    }

    const formRows = Array.from(body.querySelectorAll("tr.form-row:not(.empty-form)"));
    const placed = formRows.filter((row) => row.classList.contains("has_original"));
    const unplaced = formRows.filter((row) => !row.classList.contains("has_original"));
    const newHeading = heading("New rows: choose a story, then move it into a section", "");
    newHeading.classList.add("new-rows");
    body.insertBefore(newHeading, unplaced[0] || body.querySelector("tr.empty-form"));
    for (const option of sections) {
      const title = heading(option.textContent, option.value);
      body.insertBefore(title, newHeading);
      const inSection = placed.filter((row) => row.querySelector(SECTION).value === option.value);
      inSection.sort((a, b) => Number(a.querySelector(POSITION).value) - Number(b.querySelector(POSITION).value));
      for (const row of inSection) {
        body.insertBefore(row, newHeading);
      }
    }
    for (const row of placed.concat(unplaced)) {
      equip(row);
    }
    // Rows added with "Add another" arrive without controls.
    document.addEventListener("formset:added", function (event) {
      if (event.target.closest && event.target.closest("tbody") === body) {
        equip(event.target);
      }
    });

    function sectionOf(row) {
      for (let node = row.previousElementSibling; node; node = node.previousElementSibling) {
        if (node.classList.contains("section-heading")) {
          return node.dataset.section;
        }
      }
      return "";
    }

    function setValue(field, value) {
      if (field.value !== value) {
        field.value = value;
        field.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }

    function renumber() {
      let section = "";
      let position = 0;
      for (const row of body.children) {
        if (row.classList.contains("section-heading")) {
          section = row.dataset.section;
          position = 0;
        } else if (section && row.classList.contains("form-row") && !row.classList.contains("empty-form")) {
          position += 1;
          setValue(row.querySelector(SECTION), section);
          setValue(row.querySelector(POSITION), String(position));
        }
      }
    }

    function titleOf(row) {
      const story = row.querySelector(STORY);
      const chosen = story && story.selectedOptions[0];
      return chosen && chosen.value ? chosen.textContent.trim() : "This story";
    }

    function moved(row) {
      renumber();
      const section = sectionOf(row);
      const name = sections.find((option) => option.value === section);
      status.textContent = name
        ? `${titleOf(row)}: ${name.textContent}, position ${row.querySelector(POSITION).value}.`
        : `${titleOf(row)}: among the new rows.`;
    }

    function moveUp(row) {
      const before = row.previousElementSibling;
      // The first heading stays first: nothing goes above the first section.
      if (before && before.previousElementSibling) {
        body.insertBefore(row, before);
        moved(row);
      }
    }

    function moveDown(row) {
      const after = row.nextElementSibling;
      if (after && !after.classList.contains("new-rows") && !after.classList.contains("empty-form")) {
        after.after(row);
        moved(row);
      }
    }

    function moveToSection(row, value) {
      if (sectionOf(row) === value) {
        return;
      }
      const headings = Array.from(body.querySelectorAll("tr.section-heading"));
      const next = headings[headings.findIndex((h) => h.dataset.section === value) + 1];
      body.insertBefore(row, next);
      moved(row);
    }

    function button(label, action) {
      const element = document.createElement("button");
      element.type = "button";
      element.className = "button assembly-move";
      element.textContent = label;
      element.addEventListener("click", action);
      return element;
    }

    function equip(row) {
      if (row.querySelector(".assembly-controls")) {
        return;
      }
      const controls = document.createElement("span");
      controls.className = "assembly-controls";
      const handle = document.createElement("span");
      handle.className = "drag-handle";
      handle.title = "Drag to move";
      handle.textContent = "⠿";
      handle.setAttribute("aria-hidden", "true");
      const up = button("Move up", () => moveUp(row));
      const down = button("Move down", () => moveDown(row));
      up.setAttribute("aria-label", "Move up");
      down.setAttribute("aria-label", "Move down");
      controls.append(handle, up, down);
      row.querySelector("td.original").appendChild(controls);
      // Only the handle starts a drag, so text in the row's fields can still be selected.
      handle.addEventListener("mousedown", () => (row.draggable = true));
      row.addEventListener("dragend", () => {
        row.draggable = false;
        row.classList.remove("dragging");
      });
      row.addEventListener("dragstart", (event) => {
        dragged = row;
        row.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", row.id);
      });
      row.querySelector(SECTION).addEventListener("change", (event) => moveToSection(row, event.target.value));
    }

    let dragged = null;
    function target(event) {
      const row = event.target.closest && event.target.closest("tr");
      if (!dragged || !row || row === dragged || row.parentNode !== body) {
        return null;
      }
      if (row.classList.contains("empty-form") || row.classList.contains("add-row")) {
        return null;
      }
      return row;
    }
    body.addEventListener("dragover", (event) => {
      if (target(event)) {
        event.preventDefault();
        event.dataTransfer.dropEffect = "move";
      }
    });
    body.addEventListener("drop", (event) => {
      const row = target(event);
      if (!row) {
        return;
      }
      event.preventDefault();
      const box = row.getBoundingClientRect();
      const below = row.classList.contains("section-heading") || event.clientY > box.top + box.height / 2;
      if (below) {
        row.after(dragged);
      } else if (row.previousElementSibling) {
        row.before(dragged);
      }
      moved(dragged);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const group = document.getElementById("placements-group");
    if (group) {
      init(group);
    }
  });
})();
