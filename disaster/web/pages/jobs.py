"""A job's page: its progress (a progress bar that follows it, with the pages' script), cancel,
and the download of its result once done. Pages that start a job lead here."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from disaster.usecases import jobs as usecase
from disaster.web.deps import CurrentCaller, Store
from disaster.web.jobs import JobId, JobOut
from disaster.web.jobs import cancel as cancel_job
from disaster.web.pages.render import page

router = APIRouter()


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(job_id: JobId, request: Request, store: Store, caller: CurrentCaller) -> HTMLResponse:
    job = JobOut.of(usecase.read(store.sessions, caller.principal, job_id))
    return page(request, "job.html.j2", {"job": job}, caller=caller, title=job.kind_label)


@router.post("/jobs/{job_id}/cancel")
def cancel(job_id: JobId, store: Store, caller: CurrentCaller) -> Response:
    cancel_job(job_id, store, caller)  # audited there
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
