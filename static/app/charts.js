// Charts drawn from the tables they sit on (portal/_report.html): a table marked
// data-chart="bar|line|doughnut" is the chart's only source. Its body rows' first cell
// is the label; each header cell marked data-series is a data set, read from the
// data-value of the cells below it. Without JavaScript (or Chart.js) the table is all
// there is, and it says everything; the canvas is hidden from screen readers, which
// read the table.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") { return; }
  var style = getComputedStyle(document.documentElement);
  var primary = style.getPropertyValue("--bs-primary").trim() || "#0d6efd";
  var palette = [primary, "#6c757d", "#fd7e14", "#20c997", "#6f42c1", "#d63384", "#ffc107", "#0dcaf0"];

  function draw(table) {
    var kind = table.getAttribute("data-chart");
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var labels = rows.map(function (row) { return row.cells[0].textContent.trim(); });
    var datasets = [];
    heads.forEach(function (head, index) {
      if (!head.hasAttribute("data-series")) { return; }
      var colour = palette[datasets.length % palette.length];
      datasets.push({
        label: head.textContent.trim(),
        data: rows.map(function (row) { return Number(row.cells[index].getAttribute("data-value")) || 0; }),
        backgroundColor: kind === "doughnut" ? palette : colour,
        borderColor: kind === "doughnut" ? "#fff" : colour,
        tension: 0
      });
    });
    var holder = document.createElement("div");
    holder.className = "report-chart";
    var canvas = document.createElement("canvas");
    canvas.setAttribute("aria-hidden", "true");
    holder.appendChild(canvas);
    // A long table folded in a <details> keeps its chart outside, always in view.
    var anchor = table.closest("details") || table;
    anchor.parentNode.insertBefore(holder, anchor);
    var options = { responsive: true, maintainAspectRatio: false, animation: false };
    if (kind !== "doughnut") {
      options.scales = { y: { beginAtZero: true, ticks: { precision: 0 } } };
    }
    new window.Chart(canvas, { type: kind, data: { labels: labels, datasets: datasets }, options: options });
  }

  document.querySelectorAll("table[data-chart]").forEach(draw);
})();
