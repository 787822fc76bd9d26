// The lab page's scaling calculator: the model of generator/site/scaling.py, in the browser.
// Its inputs are the JSON the site build wrote beside the form (taken from the lab's results),
// one set per provider the apply and push times were measured on (kind, kwok);
// the formulas are the same as the Python model's, and a browser test checks both agree.
// Plain JavaScript, no library: a dozen lines of arithmetic do not need one.
(function () {
  "use strict";

  function number(value) {
    // Three significant digits, thousands separated: the site's tables do the same.
    if (value === 0 || !isFinite(value)) return String(value);
    var digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value))));
    return value.toLocaleString("en-US", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  }

  function size(bytes) {
    var units = [["GB", 1e9], ["MB", 1e6], ["KB", 1e3]];
    for (var i = 0; i < units.length; i++) {
      if (bytes >= units[i][1]) return number(bytes / units[i][1]) + " " + units[i][0];
    }
    return number(bytes) + " B";
  }

  function duration(seconds) {
    if (seconds >= 7200) return number(seconds / 3600) + " h";
    return seconds >= 120 ? number(seconds / 60) + " min" : number(seconds) + " s";
  }

  function predict(m, fleet, interval, refs, agent, parallel) {
    // Push: the pipeline's own steps once, then one wave of deploys (a cluster's apply, as the
    // agent measured it) per `parallel` clusters.
    var wave = m.apply_seconds.ours;
    var pipeline = Math.max(0, m.push_seconds - wave);
    var rate = fleet / interval;
    var pollBytes = m.bytes_base[agent] + m.bytes_per_ref[agent] * refs;
    var cpu = m.cpu_per_request[agent] + m.cpu_per_ref[agent] * refs;
    var apply = m.apply_seconds[agent];
    return {
      requests_per_minute: rate * 60,
      bytes_per_minute: rate * 60 * pollBytes,
      git_cores: rate * cpu,
      beyond_measured: rate > m.measured_rate,
      pull_seconds: (interval * fleet) / (fleet + 1) + apply,
      webhook_seconds: apply,
      push_seconds: pipeline + wave * Math.ceil(fleet / Math.max(1, parallel)),
    };
  }

  // Clusters, refs and deploys at once are whole numbers (step="1"); the interval need not be.
  function field(form, name) {
    var input = form.elements[name];
    var value = Number(input.value);
    var low = Number(input.min), high = Number(input.max);
    var whole = input.step === "1";
    if (!input.value || !isFinite(value) || value < low || value > high ||
        (whole && !Number.isInteger(value))) {
      var label = input.parentNode.firstChild.textContent.trim();
      return { error: label + ": " + (whole ? "a whole number" : "a number") + " from " +
        low.toLocaleString("en-US") + " to " + high.toLocaleString("en-US") };
    }
    return { value: value };
  }

  function row(list, label, text, key, value) {
    var term = document.createElement("dt");
    term.textContent = label;
    var definition = document.createElement("dd");
    definition.textContent = text;
    definition.dataset.key = key;
    definition.dataset.value = String(value);
    list.append(term, definition);
  }

  function update(form, models) {
    var output = form.elements.result;
    output.replaceChildren();
    var values = {};
    var names = ["fleet", "interval", "refs", "parallel"];
    for (var i = 0; i < names.length; i++) {
      var got = field(form, names[i]);
      if (got.error) {
        output.textContent = got.error;
        output.dataset.state = "error";
        return;
      }
      values[names[i]] = got.value;
    }
    var agent = form.elements.agent.value;
    var measured = models[form.elements.provider.value];
    var p = predict(measured, values.fleet, values.interval, values.refs, agent, values.parallel);
    var list = document.createElement("dl");
    row(list, "requests to the git server", number(p.requests_per_minute) + " a minute",
      "requests_per_minute", p.requests_per_minute);
    row(list, "bytes of idle polls", size(p.bytes_per_minute) + " a minute",
      "bytes_per_minute", p.bytes_per_minute);
    row(list, "git server CPU", number(p.git_cores) + " cores like the lab machine's" +
      (p.beyond_measured ? " (beyond what the lab measured: a guess)" : ""),
      "git_cores", p.git_cores);
    row(list, "pull lead time, polling", duration(p.pull_seconds), "pull_seconds", p.pull_seconds);
    row(list, "pull lead time, webhook", duration(p.webhook_seconds), "webhook_seconds",
      p.webhook_seconds);
    row(list, "push lead time", duration(p.push_seconds), "push_seconds", p.push_seconds);
    output.append(list);
    output.dataset.state = "ok";
  }

  function start() {
    var forms = document.querySelectorAll("form.scaling-calculator");
    for (var i = 0; i < forms.length; i++) {
      (function (form) {
        var models = JSON.parse(form.querySelector("script.scaling-inputs").textContent);
        form.addEventListener("input", function () { update(form, models); });
        update(form, models);
      })(forms[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
