// The pages' only script (no inline script is allowed by the pages' CSP). Everything works
// without it; it adds: live progress of a job (an element with data-job="<id>"), and a question
// before a form with data-confirm="<question>" is sent.
"use strict";

function followJob(element) {
  const id = element.dataset.job;
  const bar = element.querySelector("progress");
  const text = element.querySelector("[data-job-message]");
  const done = element.querySelector("[data-job-done]");
  const tick = async () => {
    let job;
    try {
      const answer = await fetch(`/api/v1/jobs/${encodeURIComponent(id)}`, { credentials: "same-origin" });
      if (!answer.ok) { return; }
      job = await answer.json();
    } catch (error) {
      window.setTimeout(tick, 3000);
      return;
    }
    if (bar) { bar.value = job.progress; bar.textContent = `${job.progress}%`; }
    if (text) { text.textContent = job.message || job.state_label || ""; }
    if (["queued", "running"].includes(job.state)) {
      window.setTimeout(tick, 1500);
    } else if (done) {
      done.hidden = false;
      done.focus();
    }
  };
  tick();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-job]").forEach(followJob);
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
});
