"""Build Pantau's Grafana dashboard with Grafana's typed models (grafana-foundation-sdk, 11.6).

    python scripts/grafana/build_dashboards.py          # rewrite grafana/dashboards/*.json
    python scripts/grafana/build_dashboards.py --check  # exit 1 if the committed JSON is stale

Every panel query filters on `office=~"$office"` (and `target=~"$target"` where a target
exists) and reads from the `${datasource}` variable, so the JSON imports into any Grafana.
`panel_queries()` lists every (panel title, PromQL) pair so a test can run them against a real
Prometheus; `expand()` fills in the dashboard variables the way Grafana would.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import (
    bargauge,
    dashboard,
    prometheus,
    stat,
    statetimeline,
    timeseries,
)
from grafana_foundation_sdk.builders import common as common_b
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dm

from monitor.vocabulary import DOMAINS

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "grafana" / "dashboards" / "pantau-link.json"
UID = "pantau-link"
TITLE = "Pantau — link to the data center"

DS = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
OFFICE = 'office=~"$office"'
OFFICE_TARGET = 'office=~"$office", target=~"$target"'
LAST = common_b.ReduceDataOptions().calcs(["lastNotNull"])
DOMAIN_COLORS = {
    "local": "purple",
    "isp": "orange",
    "datacenter": "red",
    "dns": "yellow",
    "unknown": "grey",
}


def query(expr: str, legend: str = "__auto", ref: str = "A") -> prometheus.Dataquery:
    """One PromQL query against the dashboard's data source variable."""
    return prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref).datasource(DS)


def mapping(values: dict[int, tuple[str, str]]) -> dm.ValueMap:
    """Number -> (text, color) value mapping."""
    return dm.ValueMap(
        options={
            str(k): dm.ValueMappingResult(text=text, color=color, index=i)
            for i, (k, (text, color)) in enumerate(values.items())
        }
    )


def thresholds(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(dm.ThresholdsMode.ABSOLUTE)
        .steps([dm.Threshold(value=v, color=c) for v, c in steps])
    )


def by_thresholds() -> dashboard.FieldColor:
    return dashboard.FieldColor().mode(dm.FieldColorModeId.THRESHOLDS)


def now_row() -> list:
    state = (
        stat.Panel()
        .reduce_options(LAST)
        .title("Link to the data center now")
        .description("Pantau's confirmed state of the service link: up, slow or down.")
        .with_target(
            query(
                f'max by (office) (pantau_link_state{{{OFFICE}, state="down"}}) * 2'
                f' + max by (office) (pantau_link_state{{{OFFICE}, state="slow"}})',
                "{{office}}",
            )
        )
        .mappings([mapping({0: ("UP", "green"), 1: ("SLOW", "orange"), 2: ("DOWN", "red")})])
        .color_scheme(by_thresholds())
        .thresholds(thresholds((None, "green"), (1, "orange"), (2, "red")))
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .height(6)
        .span(8)
    )
    domain = (
        stat.Panel()
        .reduce_options(LAST)
        .title("Fault domain now")
        .description(
            "Where the fault is, by Pantau's verdict (first failing hop wins): "
            "our LAN (local), the ISP, the data center, DNS, or unknown."
        )
        .with_target(
            query(
                f"max by (domain) (pantau_outage_active{{{OFFICE}}}) * 2"
                f" + on (domain) max by (domain) (pantau_slow_active{{{OFFICE}}})",
                "{{domain}}",
            )
        )
        .mappings([mapping({0: ("ok", "green"), 1: ("slow", "orange"), 2: ("DOWN", "red")})])
        .color_scheme(by_thresholds())
        .thresholds(thresholds((None, "green"), (1, "orange"), (2, "red")))
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .height(6)
        .span(10)
    )
    open_now = (
        stat.Panel()
        .reduce_options(LAST)
        .title("Office open now")
        .description("pantau_service_open: the office calendar, holidays included.")
        .with_target(query(f"max by (office) (pantau_service_open{{{OFFICE}}})", "{{office}}"))
        .mappings([mapping({0: ("closed", "text"), 1: ("open", "blue")})])
        .color_mode(common.BigValueColorMode.VALUE)
        .graph_mode(common.BigValueGraphMode.NONE)
        .height(6)
        .span(6)
    )
    return [state, domain, open_now]


def lost_row() -> list:
    def lost(title: str, record: str) -> stat.Panel:
        return (
            stat.Panel()
            .reduce_options(LAST)
            .title(title)
            .description(
                "Scheduled service time lost to outages, as Pantau's ledger counts it (the same "
                "seconds as the daily report, also across daemon restarts). Periods are the "
                "office's local days: 'today' starts at local midnight, 'this month' on the 1st."
            )
            .with_target(query(f"sum by (office) ({record}{{{OFFICE}}})", "{{office}}"))
            .unit("s")
            .decimals(0)
            .color_scheme(by_thresholds())
            .thresholds(thresholds((None, "green"), (60, "orange"), (3600, "red")))
            .graph_mode(common.BigValueGraphMode.NONE)
            .height(5)
            .span(6)
        )

    availability = (
        stat.Panel()
        .reduce_options(LAST)
        .title("Availability during service hours")
        .description(
            "Share of open office time the link was usable (up or slow). Closed time and "
            "time Pantau was not running are left out, never counted as up."
        )
        .with_target(
            query(f"office:pantau_availability_in_service:ratio_today{{{OFFICE}}}", "today", "A")
        )
        .with_target(
            query(f"office:pantau_availability_in_service:ratio_7d{{{OFFICE}}}", "7 days", "B")
        )
        .with_target(
            query(f"office:pantau_availability_in_service:ratio_30d{{{OFFICE}}}", "30 days", "C")
        )
        .unit("percentunit")
        .decimals(1)
        .min(0)
        .max(1)
        .no_value("closed")
        .color_scheme(by_thresholds())
        .thresholds(thresholds((None, "red"), (0.95, "orange"), (0.99, "green")))
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .height(5)
        .span(12)
    )
    by_domain = (
        bargauge.Panel()
        .reduce_options(LAST)
        .title("Lost service time by fault domain, 30 days")
        .description("Who to escalate to: the ISP, the ministry's data center, or our own LAN.")
        .with_target(
            query(
                f"sum by (domain) (office_domain:pantau_lost_service_seconds:30d{{{OFFICE}}})",
                "{{domain}}",
            )
        )
        .unit("s")
        .decimals(0)
        .display_mode(common.BarGaugeDisplayMode.BASIC)
        .orientation(common.VizOrientation.HORIZONTAL)
        .color_scheme(by_thresholds())
        .thresholds(thresholds((None, "green"), (60, "orange"), (3600, "red")))
        .height(5)
        .span(12)
    )
    unmonitored = (
        stat.Panel()
        .reduce_options(LAST)
        .title("Unmonitored service time, 30 days")
        .description("Open office time with no data-center result: Pantau was not running.")
        .with_target(
            query(
                f"sum by (office) (increase(pantau_unmonitored_seconds_total{{{OFFICE}}}[30d]))",
                "{{office}}",
            )
        )
        .unit("s")
        .decimals(0)
        .graph_mode(common.BigValueGraphMode.NONE)
        .height(5)
        .span(12)
    )
    return [
        lost("Lost service time today", "office_domain:pantau_lost_service_seconds:today"),
        lost("Lost service time, 7 days", "office_domain:pantau_lost_service_seconds:7d"),
        lost("Lost service time, 30 days", "office_domain:pantau_lost_service_seconds:30d"),
        lost("Lost service time, this month", "office_domain:pantau_lost_service_seconds:month"),
        availability,
        by_domain,
        unmonitored,
    ]


def planned_row() -> list:
    """Issue 16: announced maintenance (planned, apart from unplanned lost time) and uplinks."""
    window = (
        stat.Panel()
        .reduce_options(LAST)
        .title("Maintenance window now")
        .description(
            "1 while an announced maintenance window is open (by the center, the ISP or the "
            "office): outage time in it is booked as planned, and nobody is paged."
        )
        .with_target(
            query(
                f"max by (announced_by) (pantau_maintenance_active{{{OFFICE}}})", "{{announced_by}}"
            )
        )
        .mappings([mapping({0: ("none", "text"), 1: ("MAINTENANCE", "blue")})])
        .color_mode(common.BigValueColorMode.VALUE)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .height(5)
        .span(6)
    )
    planned = (
        stat.Panel()
        .reduce_options(LAST)
        .title("Planned maintenance, of the lost time")
        .description(
            "Lost service seconds inside announced maintenance windows (the ledger's accounting; "
            "part of the lost time above, shown apart from the unplanned time a provider owes)."
        )
        .with_target(
            query(
                f"sum by (period) (pantau_ledger_planned_service_seconds{{{OFFICE}}})", "{{period}}"
            )
        )
        .unit("s")
        .decimals(0)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .height(5)
        .span(6)
    )
    backup = (
        stat.Panel()
        .reduce_options(LAST)
        .title("On the backup link")
        .description(
            "Service seconds the service answered only through a backup uplink (up on backup), "
            "today and this month; the ISP of the uplink that was down must still be told."
        )
        .with_target(
            query(
                f"sum by (period) (pantau_ledger_degraded_service_seconds{{{OFFICE}}})",
                "{{period}}",
            )
        )
        .unit("s")
        .decimals(0)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .height(5)
        .span(6)
    )
    uplinks = (
        stat.Panel()
        .reduce_options(LAST)
        .title("Uplinks now")
        .description(
            "Each uplink's own verdict: down means its ISP (or what lies behind it) failed."
        )
        .with_target(
            # An office with one link has no uplink series: it reads "up" (its link state is
            # in the first row).
            query(
                f'max by (uplink) (pantau_uplink_state{{{OFFICE}, state="down"}})'
                f" or on () max(pantau_link_degraded{{{OFFICE}}}) * 0",
                "{{uplink}}",
            )
        )
        .mappings([mapping({0: ("up", "green"), 1: ("DOWN", "red")})])
        .color_scheme(by_thresholds())
        .thresholds(thresholds((None, "green"), (1, "red")))
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .height(5)
        .span(6)
    )
    return [window, planned, backup, uplinks]


def timeline_row() -> list:
    # One number per fault domain so the timeline is coloured by who is at fault.
    outage = " + ".join(
        f'max by (office) (pantau_outage_active{{{OFFICE}, domain="{d}"}}) * {i}'
        for i, d in enumerate(DOMAINS, start=1)
    )
    slow = " + ".join(
        f'max by (office) (pantau_slow_active{{{OFFICE}, domain="{d}"}}) * {i}'
        for i, d in enumerate(DOMAINS, start=1)
    )
    colors = {0: ("up", "green")} | {
        i: (d, DOMAIN_COLORS[d]) for i, d in enumerate(DOMAINS, start=1)
    }
    link = (
        statetimeline.Panel()
        .title("Outages and slow periods by fault domain")
        .description("Each band is coloured by the fault domain Pantau blamed at that time.")
        .with_target(query(outage, "outage {{office}}", "A"))
        .with_target(query(slow, "slow {{office}}", "B"))
        .mappings([mapping(colors)])
        .color_scheme(dashboard.FieldColor().mode(dm.FieldColorModeId.FIXED).fixed_color("green"))
        .show_value(common.VisibilityMode.NEVER)
        .merge_values(True)
        .height(6)
        .span(24)
    )
    targets = (
        statetimeline.Panel()
        .title("Target states")
        .description("Confirmed state of every probe target (down after down_after failures).")
        .with_target(
            query(
                f'max by (target) (pantau_target_state{{{OFFICE_TARGET}, state="slow"}})'
                f' + max by (target) (pantau_target_state{{{OFFICE_TARGET}, state="down"}}) * 2'
                f' + max by (target) (pantau_target_state{{{OFFICE_TARGET}, state="unknown"}}) * 3',
                "{{target}}",
            )
        )
        .mappings(
            [
                mapping(
                    {
                        0: ("up", "green"),
                        1: ("slow", "orange"),
                        2: ("down", "red"),
                        3: ("unknown", "grey"),
                    }
                )
            ]
        )
        .show_value(common.VisibilityMode.NEVER)
        .merge_values(True)
        .height(8)
        .span(24)
    )
    month = (
        statetimeline.Panel()
        .title("Outages this month")
        .description(
            "Every outage and slow period since the 1st of this month (the panel's own time "
            "range), coloured by fault domain; hover a band for its start and end. The exact "
            "list with evidence: `pantau outages --from <1st> --to <today>`."
        )
        .time_from("now/M")
        .with_target(query(outage, "outage {{office}}", "A"))
        .with_target(query(slow, "slow {{office}}", "B"))
        .mappings([mapping(colors)])
        .color_scheme(dashboard.FieldColor().mode(dm.FieldColorModeId.FIXED).fixed_color("green"))
        .show_value(common.VisibilityMode.NEVER)
        .merge_values(True)
        .height(6)
        .span(24)
    )
    return [link, month, targets]


def latency_row() -> list:
    def quantile(q: float) -> str:
        return (
            f"histogram_quantile({q}, sum by (role, le) (rate("
            f"pantau_probe_duration_seconds_bucket{{{OFFICE_TARGET}}}[$__rate_interval])))"
        )

    per_hop = (
        timeseries.Panel()
        .title("Latency per hop (p50, p95)")
        .description(
            "Probe latency by hop on the path: local (office LAN), isp, internet anchors, "
            "datacenter. A rise only at datacenter means the data center is overloaded."
        )
        .with_target(query(quantile(0.5), "{{role}} p50", "A"))
        .with_target(query(quantile(0.95), "{{role}} p95", "B"))
        .unit("s")
        .height(8)
        .span(12)
    )
    loss = (
        timeseries.Panel()
        .title("ICMP packet loss")
        .with_target(
            query(
                f"max by (target) (pantau_icmp_packet_loss_ratio{{{OFFICE_TARGET}}})",
                "{{target}}",
            )
        )
        .unit("percentunit")
        .min(0)
        .max(1)
        .height(8)
        .span(12)
    )
    phases = (
        timeseries.Panel()
        .title("HTTP phases of the last probe")
        .description("Where an HTTP probe spends its time: DNS, TCP connect, TLS, first byte.")
        .with_target(
            query(
                "max by (target, phase) "
                f'(pantau_probe_phase_seconds{{{OFFICE_TARGET}, phase!="total"}})',
                "{{target}} {{phase}}",
            )
        )
        .unit("s")
        .stacking(common_b.StackingConfig().mode(common.StackingMode.NORMAL).group("A"))
        .fill_opacity(40)
        .height(8)
        .span(12)
    )
    rtt = (
        timeseries.Panel()
        .title("ICMP round trip")
        .with_target(
            query(
                f"max by (target, stat) (pantau_icmp_rtt_seconds{{{OFFICE_TARGET}}})",
                "{{target}} {{stat}}",
            )
        )
        .unit("s")
        .height(8)
        .span(12)
    )
    tls = (
        stat.Panel()
        .reduce_options(LAST)
        .title("TLS certificate expiry")
        .description("Time left until each https target's certificate expires (alert at 14 days).")
        .with_target(
            query(
                f"min by (target) (pantau_tls_cert_expiry_timestamp_seconds{{{OFFICE_TARGET}}})"
                " - time()",
                "{{target}}",
            )
        )
        .unit("dtdurations")
        .color_scheme(by_thresholds())
        .thresholds(thresholds((None, "red"), (14 * 86400, "orange"), (30 * 86400, "green")))
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .height(5)
        .span(24)
    )
    return [per_hop, loss, phases, rtt, tls]


def variables() -> list:
    return [
        dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus"),
        dashboard.QueryVariable("office")
        .label("Office")
        .datasource(DS)
        .query({"query": "label_values(pantau_build_info, office)", "refId": "office"})
        .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dm.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*"),
        dashboard.QueryVariable("target")
        .label("Target")
        .datasource(DS)
        .query(
            {
                "query": 'label_values(pantau_probe_success{office=~"$office"}, target)',
                "refId": "target",
            }
        )
        .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dm.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*"),
    ]


def build() -> dm.Dashboard:
    """The dashboard "Pantau — link to the data center"."""
    board = (
        dashboard.Dashboard(TITLE)
        .uid(UID)
        .tags(["pantau"])
        .description(
            "Is the link to the central data center up, who is at fault, and how much "
            "service time was lost."
        )
        .timezone("browser")
        .time("now-24h", "now")
        .refresh("30s")
        .editable()
        .variables(variables())
    )
    rows = [
        ("Now", now_row()),
        ("Lost service time", lost_row()),
        ("Maintenance and uplinks", planned_row()),
        ("Timeline", timeline_row()),
        ("Latency, loss and certificates", latency_row()),
    ]
    return with_rows(board, rows)


def with_rows(board: dashboard.Dashboard, rows: list[tuple[str, list]]) -> dm.Dashboard:
    """The board with each (row title, panels) in order; both dashboards are laid out so."""
    for title, panels in rows:
        board = board.with_row(dashboard.Row(title))
        for panel in panels:
            board = board.with_panel(panel)
    return board.build()


def as_json(board: dm.Dashboard) -> str:
    """A dashboard as the JSON committed to grafana/dashboards/."""
    return json.dumps(board, cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render() -> str:
    """The dashboard as the JSON committed to grafana/dashboards/."""
    return as_json(build())


def panel_queries(board: dict) -> list[tuple[str, str]]:
    """(panel title, PromQL) for every query of every panel, rows included."""
    found = []
    for panel in board["panels"]:
        for inner in [panel, *panel.get("panels", [])]:
            for target in inner.get("targets", []):
                found.append((inner["title"], target["expr"]))
    return found


def expand(expr: str, office: str = ".*", target: str = ".*", rate_interval: str = "1m") -> str:
    """Substitute the dashboard variables as Grafana does for a regex-matched multi-value."""
    return (
        expr.replace("$__rate_interval", rate_interval)
        .replace("$office", office)
        .replace("$target", target)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the JSON is out of date")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT.relative_to(REPO)} is stale: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
