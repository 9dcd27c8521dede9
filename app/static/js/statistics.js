// 统计分析: the 12-month trend (received, decided, on-time rate) with ECharts.
document.addEventListener("DOMContentLoaded", () => {
  const holder = document.getElementById("trend-chart");
  const source = document.getElementById("trend-data");
  if (!holder || !source || !window.echarts) return;
  const data = JSON.parse(source.textContent);
  const chart = window.echarts.init(holder);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: ["收件", "办结", "按时办结率"] },
    grid: { left: 40, right: 48, bottom: 40, top: 40 },
    xAxis: { type: "category", data: data.months, axisLabel: { rotate: 45 } },
    yAxis: [
      { type: "value", name: "件" },
      { type: "value", name: "%", min: 0, max: 100 },
    ],
    series: [
      { name: "收件", type: "bar", data: data.received },
      { name: "办结", type: "bar", data: data.decided },
      { name: "按时办结率", type: "line", yAxisIndex: 1, data: data.on_time, connectNulls: true },
    ],
  });
  window.addEventListener("resize", () => chart.resize());
});
