"""Build the national Grafana dashboard (issue 15) with the office dashboard's SDK and helpers.

    python scripts/grafana/build_national_dashboard.py          # rewrite pantau-national.json
    python scripts/grafana/build_national_dashboard.py --check  # exit 1 if it is stale

It reads the central VictoriaMetrics (a Prometheus data source) and the national rules' records
(config/fleet/rules/national.yml): the central outage now, with its start and share; offices by
state and blamed domain; counts by ISP and province; lost service hours by office over the time
range (default: this month); offices not reporting. `isp` and `province` filter every panel.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import bargauge, dashboard, stat, table, timeseries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_dashboards import (
    DS,
    LAST,
    REPO,
    as_json,
    by_thresholds,
    query,
    thresholds,
    with_rows,
)

OUT = REPO / "grafana" / "dashboards" / "pantau-national.json"
UID = "pantau-national"
TITLE = "Pantau — national view"
# Offices selected by the ISP and province variables, as a join on the info metric.
WHO = 'max by (office) (pantau_office_info{isp=~"$isp", province=~"$province"})'


def _selected(expr: str) -> str:
    """`expr` (one series per office) restricted to the selected ISPs and provinces."""
    return f"({expr}) * on (office) group_left () {WHO}"


def central_row() -> list:
    share = (
        stat.Panel()
        .reduce_options(LAST)
        .title("Data center down for")
        .description(
            "Share of the offices that vote (fresh data, own network fine) whose Pantau blames "
            "the data center now. The national alert fires at 30 %, 20 offices, 3 ISPs."
        )
        .with_target(query("fleet:pantau_datacenter_down:ratio", "share"))
        .unit("percentunit")
        .decimals(0)
        .color_scheme(by_thresholds())
        .thresholds(thresholds((None, "green"), (0.1, "orange"), (0.3, "red")))
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .height(6)
        .span(6)
    )
    counts = (
        stat.Panel()
        .reduce_options(LAST)
        .title("Offices that see it / offices that vote")
        .with_target(query("fleet:pantau_datacenter_down:count", "see the data center down", "A"))
        .with_target(query("fleet:pantau_voters:count", "vote", "B"))
        .with_target(query("fleet:pantau_datacenter_down_isps:count", "ISPs", "C"))
        .decimals(0)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .graph_mode(common.BigValueGraphMode.NONE)
        .height(6)
        .span(8)
    )
    since = (
        stat.Panel()
        .reduce_options(LAST)
        .title("Central outage since")
        .description("When the national alert became active (vmalert's ALERTS_FOR_STATE).")
        .with_target(
            query(
                'max(ALERTS_FOR_STATE{alertname="PantauNationalDataCenterDown"}) * 1000',
                "since",
            )
        )
        .unit("dateTimeFromNow")
        .no_value("no central outage")
        .graph_mode(common.BigValueGraphMode.NONE)
        .height(6)
        .span(10)
    )
    history = (
        timeseries.Panel()
        .title("Share of offices that see the data center down")
        .with_target(query("fleet:pantau_datacenter_down:ratio", "data center down"))
        .unit("percentunit")
        .min(0)
        .max(1)
        .height(7)
        .span(24)
    )
    return [share, counts, since, history]


def offices_row() -> list:
    by_domain = (
        bargauge.Panel()
        .title("Offices by blamed domain now")
        .description("Offices whose Pantau has an outage open, by the domain it blames.")
        .with_target(
            query(
                "count by (domain) ("
                + _selected("max by (office, domain) (pantau_outage_active == 1)")
                + ")",
                "{{domain}}",
            )
        )
        .orientation(common.VizOrientation.HORIZONTAL)
        .height(7)
        .span(8)
    )
    by_state = (
        stat.Panel()
        .reduce_options(LAST)
        .title("Offices by link state now")
        .with_target(
            query(
                "count by (state) ("
                + _selected("max by (office, state) (pantau_link_state == 1)")
                + ")",
                "{{state}}",
            )
        )
        .with_target(query("fleet:pantau_offices_stale:count", "not reporting", "B"))
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .graph_mode(common.BigValueGraphMode.NONE)
        .height(7)
        .span(8)
    )
    stale = (
        table.Panel()
        .title("Offices not reporting")
        .description("Reported within the last day, nothing in the last 2 minutes.")
        .with_target(
            query(
                "max by (office) (last_over_time(pantau_build_info[1d]))"
                " unless on (office) office:pantau_fresh",
                "{{office}}",
            ).instant()
        )
        .height(7)
        .span(8)
    )
    return [by_state, by_domain, stale]


def breakdown_row() -> list:
    def bars(title: str, label: str) -> bargauge.Panel:
        expr = (
            f"sum by ({label}) (office:pantau_outage * on (office) group_left ({label}) "
            f'max by (office, {label}) (pantau_office_info{{isp=~"$isp", province=~"$province"}}))'
        )
        return (
            bargauge.Panel()
            .title(title)
            .description("Voting offices with an outage past their own LAN, now.")
            .with_target(query(expr, f"{{{{{label}}}}}"))
            .orientation(common.VizOrientation.HORIZONTAL)
            .height(9)
            .span(12)
        )

    return [bars("Offices with an outage, by ISP", "isp"), bars("… by province", "province")]


def lost_row() -> list:
    lost = (
        bargauge.Panel()
        .title("Lost service hours by office (time range)")
        .description(
            "Service hours lost to outages over the dashboard's time range (this month by "
            "default), from each office's lost-seconds counter; the worst 30 offices."
        )
        .with_target(
            query(
                "topk(30, "
                + _selected(
                    "sum by (office) (increase(pantau_lost_service_seconds_total[$__range]))"
                )
                + ") / 3600",
                "{{office}}",
            )
        )
        .unit("h")
        .decimals(1)
        .orientation(common.VizOrientation.HORIZONTAL)
        .color_scheme(by_thresholds())
        .thresholds(thresholds((None, "green"), (1, "orange"), (8, "red")))
        .height(12)
        .span(24)
    )
    return [lost]


def variables() -> list:
    def label(name: str, title: str) -> dashboard.QueryVariable:
        return (
            dashboard.QueryVariable(name)
            .label(title)
            .datasource(DS)
            .query({"query": f"label_values(pantau_office_info, {name})", "refId": name})
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(dm.VariableSort.ALPHABETICAL_ASC)
            .multi(True)
            .include_all(True)
            .all_value(".*")
        )

    return [
        dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus"),
        label("isp", "ISP"),
        label("province", "Province"),
    ]


def build() -> dm.Dashboard:
    """The dashboard "Pantau — national view"."""
    board = (
        dashboard.Dashboard(TITLE)
        .uid(UID)
        .tags(["pantau", "national"])
        .description("All offices at once: is the fault central, one ISP's, or local?")
        .timezone("browser")
        .time("now/M", "now")
        .refresh("30s")
        .editable()
        .variables(variables())
    )
    rows = [
        ("Central outage", central_row()),
        ("Offices now", offices_row()),
        ("By ISP and province", breakdown_row()),
        ("Lost service time", lost_row()),
    ]
    return with_rows(board, rows)


def render() -> str:
    """The dashboard as the JSON committed to grafana/dashboards/."""
    return as_json(build())


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
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
