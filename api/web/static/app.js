// The workspace's small behaviours: live progress, the job list's refresh, the day dialog,
// filters that apply on change, confirmations. Every page also works without it.
"use strict";

(function () {
  function signIn() {
    window.location.assign("/ui/sign-in?why=expired&next=" + encodeURIComponent(location.pathname + location.search));
  }

  function fmt(x, digits) {
    return x === null || x === undefined ? "–" : Number(x).toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function pct(x, digits) {
    return x === null || x === undefined ? "–" : (100 * x).toFixed(digits) + " %";
  }

  // live progress of one job
  function pollProgress(panel) {
    var url = panel.getAttribute("data-poll");
    var set = function (name, text) {
      var el = panel.querySelector('[data-field="' + name + '"]');
      if (el) el.textContent = text;
    };
    var tick = function () {
      fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (r) {
          if (r.status === 401) { signIn(); throw new Error("signed out"); }
          return r.json();
        })
        .then(function (job) {
          var p = job.progress, res = job.result;
          set("status", job.status);
          set("queue_position", job.queue_position === null ? "–" : String(job.queue_position));
          set("phase", p.phase);
          set("best_objective", fmt(res ? res.objective : p.best_objective, 2));
          set("best_bound", fmt(res ? res.best_bound : p.best_bound, 2));
          set("gap", pct(res ? res.gap : p.gap, 2));
          set("elapsed_s", fmt(p.elapsed_s, 1) + " s" + (p.time_limit_s ? " of " + fmt(p.time_limit_s, 0) + " s" : ""));
          set("result", res ? res.status : "–");
          set("message", p.message || "");
          var bar = document.getElementById("elapsed-bar");
          if (bar && p.elapsed_s !== null) bar.value = Math.min(p.elapsed_s, bar.max);
          if (job.status === "queued" || job.status === "running") {
            setTimeout(tick, 1000);
          } else {
            window.location.reload();
          }
        })
        .catch(function () {});
    };
    setTimeout(tick, 500);
  }

  // the job list, refreshed while jobs wait or run
  function refreshJobs(wrap) {
    var url = wrap.getAttribute("data-refresh");
    var tick = function () {
      var table = wrap.querySelector("table");
      if (!table || table.getAttribute("data-active") !== "1") return;
      fetch(url, { cache: "no-store" })
        .then(function (r) {
          if (r.status === 401 || r.redirected) { signIn(); throw new Error("signed out"); }
          return r.text();
        })
        .then(function (html) { wrap.innerHTML = html; setTimeout(tick, 2000); })
        .catch(function () {});
    };
    setTimeout(tick, 2000);
  }

  // the day timeline in a dialog
  function dayDialog(grid) {
    var dialog = document.getElementById("day-dialog");
    var body = document.getElementById("day-body");
    if (!dialog || !body || typeof dialog.showModal !== "function") return;
    var opener = null;
    grid.addEventListener("click", function (ev) {
      var a = ev.target.closest("td a");
      if (!a) return;
      ev.preventDefault();
      opener = a;
      fetch(a.href + "?partial=1", { cache: "no-store" })
        .then(function (r) {
          if (r.redirected) { signIn(); throw new Error("signed out"); }
          return r.text();
        })
        .then(function (html) {
          body.innerHTML = html;
          dialog.showModal();
          document.getElementById("day-close").focus();
        })
        .catch(function () {});
    });
    dialog.addEventListener("close", function () { if (opener) opener.focus(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.getElementById("progress");
    if (panel) {
      var st = panel.getAttribute("data-status");
      if (st === "queued" || st === "running") pollProgress(panel);
    }
    var wrap = document.getElementById("jobs-wrap");
    if (wrap) refreshJobs(wrap);
    var grid = document.getElementById("grid");
    if (grid) dayDialog(grid);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
      sel.addEventListener("change", function () { sel.form.submit(); });
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.getAttribute("data-confirm"))) ev.preventDefault();
      });
    });
  });
})();
