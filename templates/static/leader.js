// The leader's plan page (progressive enhancement; everything works without it, the server
// checks every rule again): a destination too far to walk to switches "歩いて" off, and a form
// with unsaved changes is not left or issued without a question.
"use strict";

function followWalking(form) {
  const walk = form.querySelector("input[name=transport_mode][data-walk]");
  const note = document.createElement("p");
  note.className = "problem";
  note.setAttribute("aria-live", "polite");
  if (walk) { walk.closest(".choices").after(note); }
  const update = () => {
    const chosen = form.querySelector("input[name=destination]:checked");
    const walkable = !chosen || chosen.dataset.walkable !== "0";
    if (!walk) { return; }
    walk.disabled = !walkable;
    walk.closest(".choice").classList.toggle("disabled", !walkable);
    if (!walkable && walk.checked) {
      walk.checked = false;
      note.textContent = "選んだ避難先へは歩いて行けません。車か福祉タクシー等を選んでください。";
    } else if (walkable) {
      note.textContent = "";
    }
  };
  form.querySelectorAll("input[name=destination]").forEach((radio) => radio.addEventListener("change", update));
  update();
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-plan-form]");
  if (!form) { return; }
  followWalking(form);
  let dirty = false;
  let sending = false;
  form.addEventListener("input", () => { dirty = true; });
  form.addEventListener("change", () => { dirty = true; });
  form.addEventListener("submit", () => { sending = true; });
  window.addEventListener("beforeunload", (event) => {
    if (dirty && !sending) { event.preventDefault(); event.returnValue = ""; }
  });
  const issue = document.querySelector("form[data-issue-form]");
  if (issue) {
    issue.addEventListener("submit", (event) => {
      if (dirty && !window.confirm("計画の入力欄に、保存していない変更があります。変更は本人確認済に入りません。このまま本人確認済にしますか？")) {
        event.preventDefault();
      } else {
        sending = true;
      }
    });
  }
});
