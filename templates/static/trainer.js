// The trainer's pages (progressive enhancement; the forms work without it): the total of the
// participants typed in by role, shown as the numbers are typed.
"use strict";

function toNumber(text) {
  const digits = text.trim().replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0)).replace(/,/g, "");
  return /^\d+$/.test(digits) ? parseInt(digits, 10) : 0;
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("fieldset.participants").forEach((fieldset) => {
    const inputs = fieldset.querySelectorAll("input[data-participant]");
    const line = fieldset.querySelector("[data-total]");
    const value = fieldset.querySelector("[data-total-value]");
    if (!line || !value) { return; }
    const update = () => {
      let total = 0;
      inputs.forEach((input) => { total += toNumber(input.value); });
      value.textContent = total.toLocaleString("ja-JP");
    };
    inputs.forEach((input) => input.addEventListener("input", update));
    update();
    line.hidden = false;
  });
});
