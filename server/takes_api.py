"""The takes' HTTP routes under /api, and the wiring of takes into the app."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, jsonify, send_file

from .export import FORMATS, MEDIA_TYPES, ExportOptions
from .exportjobs import ExportJobs
from .httpio import content_disposition, json_object
from .rigstore import safe_name
from .takes import TakeConflict, TakeError, TakeLimits, TakeStore


def takes_blueprint(takes: TakeStore, jobs: ExportJobs) -> Blueprint:
    api = Blueprint("takes", __name__, url_prefix="/api")

    @api.errorhandler(TakeError)
    def take_error(exc: TakeError):
        return jsonify({"error": str(exc)}), exc.status

    @api.get("/takes")
    def list_takes():
        return jsonify({"takes": takes.list(), "formats": list(FORMATS),
                        "limits": {"max_takes": takes.limits.max_takes,
                                   "max_seconds": takes.limits.max_seconds}})

    @api.get("/takes/<take_id>")
    def get_take(take_id):
        return jsonify(takes.meta(take_id))

    @api.get("/takes/<take_id>/track")
    def get_track(take_id):
        meta = takes.meta(take_id)
        response = jsonify(takes.track(take_id).to_json())
        response.headers["Content-Disposition"] = content_disposition(f"{safe_name(meta['name'])}.json")
        return response

    @api.patch("/takes/<take_id>")
    def change_take(take_id):
        data = json_object()
        unknown = set(data) - {"name", "trim"}
        if unknown:
            raise TakeError(f"unknown field(s): {', '.join(sorted(unknown))} (use name, trim)")
        takes.meta(take_id)                                   # 404 before any change
        if "trim" in data:
            trim = data["trim"]
            if trim is None:
                takes.trim(take_id, None, None)
            elif isinstance(trim, (list, tuple)) and len(trim) == 2:
                takes.trim(take_id, trim[0], trim[1])
            else:
                raise TakeError("trim must be [start, end] in seconds, or null to keep the whole take")
        if "name" in data:
            takes.rename(take_id, data["name"])
        return jsonify(takes.meta(take_id))

    @api.delete("/takes/<take_id>")
    def delete_take(take_id):
        takes.delete(take_id)
        return jsonify({"deleted": take_id})

    @api.post("/takes/<take_id>/export")
    def start_export(take_id):
        data = json_object()
        fmt = data.get("format", "svg")
        if not isinstance(fmt, str):
            raise TakeError("format must be text")
        rig = data.get("rig")
        if rig is not None and not isinstance(rig, str):
            raise TakeError("rig must be a rig id")
        options = ExportOptions(fps=data.get("fps"), precision=data.get("precision"),
                                width=data.get("width"), loop=data.get("loop", True) is not False)
        if options.precision is not None and (isinstance(options.precision, bool)
                                              or not isinstance(options.precision, int)
                                              or not 0 <= options.precision <= 4):
            raise TakeError("precision must be a whole number of decimals from 0 to 4")
        job = jobs.submit(take_id, fmt, rig, data, options)
        return jsonify(job.to_json()), 202

    @api.get("/exports/<job_id>")
    def get_export(job_id):
        return jsonify(jobs.get(job_id).to_json())

    @api.post("/exports/<job_id>/cancel")
    def cancel_export(job_id):
        return jsonify(jobs.cancel(job_id).to_json())

    @api.get("/exports/<job_id>/download")
    def download_export(job_id):
        job = jobs.get(job_id)
        if job.state != "done" or job.path is None or not job.path.is_file():
            raise TakeConflict(f"export {job_id} is not ready ({job.state})")
        response = send_file(job.path, mimetype=MEDIA_TYPES[job.format], as_attachment=True,
                             download_name=job.filename, max_age=0)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return api


def install(app, live, store, data_dir: Path, limits: TakeLimits | None = None) -> TakeStore:
    """Wire takes into the app: storage, export jobs, HTTP routes, and the live server's
    record/playback events."""
    takes = TakeStore(Path(data_dir) / "takes", limits)
    jobs = ExportJobs(Path(data_dir) / "exports", takes, store)
    app.register_blueprint(takes_blueprint(takes, jobs))
    live.takes = takes
    app.extensions["pose_animator"].update({"takes": takes, "exports": jobs})
    return takes
