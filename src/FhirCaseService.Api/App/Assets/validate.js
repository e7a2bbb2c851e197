// The validator page's script: sends the text to [type]/$validate on this service and shows the OperationOutcome,
// each issue listed and marked at its line and column in a numbered copy of the text. Everything from the text or the
// answer is put into the page as text nodes, never as HTML.
"use strict";
(function () {
  const form = document.getElementById("validate-form");
  const textArea = document.getElementById("resource-text");
  const fileInput = document.getElementById("resource-file");
  const profileSelect = document.getElementById("profile");
  const button = document.getElementById("validate-button");
  const result = document.getElementById("result");
  const summary = document.getElementById("result-summary");
  const issueList = document.getElementById("issues");
  const source = document.getElementById("source");
  const lineExtension = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line";
  const columnExtension = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col";

  fileInput.addEventListener("change", function () {
    const file = fileInput.files && fileInput.files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = function () { textArea.value = String(reader.result); };
    reader.readAsText(file);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    validate().catch(function (error) { showMessage("The service could not be reached: " + error.message); });
  });

  function isXml(text) { return text.trimStart().startsWith("<"); }

  // $validate is per type: the type is the JSON resourceType or the XML root element, read leniently so that text
  // the parser rejects still reaches the validator, which reports where it breaks.
  function resourceType(text) {
    if (isXml(text)) {
      const root = /<([A-Za-z][A-Za-z0-9]*)[\s>\/]/.exec(text);
      return root ? root[1] : null;
    }
    try {
      const parsed = JSON.parse(text);
      if (parsed && typeof parsed.resourceType === "string") return parsed.resourceType;
    } catch (ignored) { /* fall back to reading the text */ }
    const match = /"resourceType"\s*:\s*"([A-Za-z]+)"/.exec(text);
    return match ? match[1] : null;
  }

  async function validate() {
    const text = textArea.value;
    if (text.trim() === "") { showMessage("Paste a resource or choose a file first."); return; }
    const type = resourceType(text);
    if (!type) { showMessage("No resource type found: a JSON resource needs \"resourceType\", an XML one its root element in the FHIR namespace."); return; }
    const profile = profileSelect.value;
    const url = "/" + encodeURIComponent(type) + "/$validate" + (profile ? "?profile=" + encodeURIComponent(profile) : "");
    button.disabled = true;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": isXml(text) ? "application/fhir+xml" : "application/fhir+json", "Accept": "application/fhir+json" },
        body: text,
      });
      const answer = await response.json().catch(function () { return null; });
      if (!answer || answer.resourceType !== "OperationOutcome") {
        showMessage("The service answered " + response.status + " without an OperationOutcome.");
        return;
      }
      if (!response.ok) {
        const reasons = (answer.issue || []).map(function (issue) { return issue.diagnostics; }).filter(Boolean).join(" ");
        showMessage("$validate for " + type + " answered " + response.status + ": " + reasons);
        return;
      }
      show(text, (answer.issue || []).map(readIssue));
    } finally {
      button.disabled = false;
    }
  }

  function readIssue(issue) {
    const extensions = issue.extension || [];
    const valueOf = function (url) {
      const found = extensions.find(function (extension) { return extension.url === url; });
      return found ? found.valueInteger : null;
    };
    return {
      severity: issue.severity || "error",
      code: issue.code || "",
      message: issue.diagnostics || (issue.details && issue.details.text) || "",
      expression: (issue.expression || [])[0] || "",
      line: valueOf(lineExtension),
      column: valueOf(columnExtension),
    };
  }

  function showMessage(message) {
    result.hidden = false;
    summary.textContent = message;
    issueList.replaceChildren();
    source.replaceChildren();
  }

  function show(text, issues) {
    const findings = issues.filter(function (issue) { return issue.severity !== "information"; });
    result.hidden = false;
    summary.textContent = findings.length === 0 ? "No issues found." : count(findings, "error") + ", " + count(findings, "warning") + ".";
    summary.dataset.issueCount = String(findings.length);
    issueList.replaceChildren.apply(issueList, findings.map(issueItem));
    renderSource(text, findings);
    result.scrollIntoView({ block: "start" });
  }

  function count(issues, severity) {
    const n = issues.filter(function (issue) { return severity === "error" ? issue.severity === "error" || issue.severity === "fatal" : issue.severity === severity; }).length;
    return n + " " + severity + (n === 1 ? "" : "s");
  }

  function issueItem(issue) {
    const item = document.createElement("li");
    item.className = issue.severity;
    item.dataset.severity = issue.severity;
    if (issue.line !== null) item.dataset.line = String(issue.line);
    if (issue.column !== null) item.dataset.column = String(issue.column);
    const severity = document.createElement("span");
    severity.className = "severity";
    severity.textContent = issue.severity;
    item.append(severity, " ");
    if (issue.line !== null) {
      const go = document.createElement("button");
      go.type = "button";
      go.className = "goto";
      go.textContent = "line " + issue.line + (issue.column !== null ? ", column " + issue.column : "");
      go.addEventListener("click", function () { goTo(issue.line, issue.column || 1); });
      item.append(go, ": ");
    }
    const message = document.createElement("span");
    message.className = "message";
    message.textContent = issue.message;
    item.append(message);
    if (issue.expression) {
      const expression = document.createElement("code");
      expression.textContent = issue.expression;
      item.append(" (", expression, ")");
    }
    return item;
  }

  function renderSource(text, issues) {
    const lines = text.split(/\r\n|\r|\n/);
    const byLine = new Map();
    issues.filter(function (issue) { return issue.line !== null; }).forEach(function (issue) {
      if (!byLine.has(issue.line)) byLine.set(issue.line, []);
      byLine.get(issue.line).push(issue);
    });
    source.replaceChildren.apply(source, lines.map(function (line, index) {
      const number = index + 1;
      const item = document.createElement("li");
      item.id = "L" + number;
      const here = byLine.get(number);
      if (!here) { item.textContent = line; return item; }
      item.className = "issue-line" + (here.every(function (issue) { return issue.severity === "warning"; }) ? " warning" : "");
      item.dataset.line = String(number);
      const column = Math.max(1, Math.min(here[0].column || 1, line.length + 1));
      const mark = document.createElement("mark");
      mark.textContent = line.charAt(column - 1) || " ";
      item.append(line.slice(0, column - 1), mark, line.slice(column));
      here.forEach(function (issue) {
        const note = document.createElement("span");
        note.className = "issue-note";
        note.textContent = "▲ " + issue.severity + (issue.column !== null ? " at column " + issue.column : "") + ": " + issue.message;
        item.append(note);
      });
      return item;
    }));
  }

  // Puts the caret at the issue in the text area and shows the marked line.
  function goTo(line, column) {
    const lines = textArea.value.split("\n");
    let offset = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    offset += Math.max(0, column - 1);
    textArea.focus();
    textArea.setSelectionRange(offset, offset + 1);
    source.querySelectorAll("li.current").forEach(function (item) { item.classList.remove("current"); });
    const target = document.getElementById("L" + line);
    if (target) { target.classList.add("current"); target.scrollIntoView({ block: "center" }); }
  }
})();
