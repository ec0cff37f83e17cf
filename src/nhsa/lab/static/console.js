// The live run page: follow the run's server-sent events, draw each step as it ends, and
// reload once the run is over (the server then renders the finished run from the database).
"use strict";

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function scenarioBox(id) {
  let box = document.querySelector(`[data-live-scenario="${CSS.escape(id)}"]`);
  if (!box) {
    box = element("section", undefined, "scenario-live");
    box.dataset.liveScenario = id;
    box.append(element("h3", id), element("ol"));
    document.getElementById("scenarios").append(box);
  }
  return box;
}

function follow(live) {
  const source = new EventSource(live.dataset.events);
  source.addEventListener("scenario", (event) => {
    const data = JSON.parse(event.data);
    const box = scenarioBox(data.scenario);
    box.querySelector("h3").textContent = `[${data.index}/${data.total}] ${data.scenario} — ${data.title}`;
  });
  source.addEventListener("step", (event) => {
    const data = JSON.parse(event.data);
    const line = `${data.step} (${data.action}): ${data.result} — ${data.message}`;
    scenarioBox(data.scenario).querySelector("ol").append(element("li", line, `result-${data.result}`));
  });
  source.addEventListener("scenario-done", (event) => {
    const data = JSON.parse(event.data);
    const box = scenarioBox(data.scenario);
    box.dataset.result = data.result;
    box.append(element("p", `${data.result} · institution ${data.institution}`, `result-${data.result}`));
    const bar = document.getElementById(`progress-${data.stage}`);
    if (bar) {
      bar.value = Number(bar.value) + 1;
      document.getElementById(`count-${data.stage}`).textContent = String(bar.value);
    }
  });
  source.addEventListener("end", (event) => {
    const data = JSON.parse(event.data);
    source.close();
    const state = document.getElementById("run-state");
    state.dataset.state = data.state;
    state.textContent = `${data.state}: ${data.message}`;
    window.location.reload();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const live = document.querySelector("[data-live-run]");
  if (live) follow(live);
});
