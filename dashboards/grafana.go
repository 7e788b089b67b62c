package dashboards

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/igniter-go/store/telemetry/opsprom"
)

// panel layout: two panels per row on Grafana's 24-column grid.
const (
	panelWidth  = 12
	panelHeight = 8
)

// JSON renders d with the Grafana Foundation SDK: the datasource, service and namespace
// variables, then d's panels two per row.
func (d Dashboard) JSON() ([]byte, error) {
	ds := common.DataSourceRef{Type: ptr(datasourceType), Uid: ptr(datasourceUID)}
	b := dashboard.NewDashboardBuilder(d.Title).
		Uid(d.UID).
		Description(d.Description).
		Tags([]string{"igniter-store", "generated"}).
		Refresh("30s").
		Time("now-1h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder(varDatasource).
			Label("Data source").
			Type(datasourceType)).
		WithVariable(labelVariable(ds, varService, "Service",
			"label_values("+opsprom.MetricOperations+", "+opsprom.LabelService+")")).
		WithVariable(labelVariable(ds, varNamespace, "Namespace",
			"label_values("+sel(opsprom.MetricOperations, serviceMatch)+", "+opsprom.LabelNamespace+")"))
	for i, p := range d.Panels {
		tp := timeseries.NewPanelBuilder().
			Title(p.Title).
			Description(p.Description).
			Unit(p.Unit).
			Min(0).
			Datasource(ds).
			GridPos(dashboard.GridPos{X: uint32(i%2) * panelWidth, Y: uint32(i/2) * panelHeight, W: panelWidth, H: panelHeight}).
			Legend(common.NewVizLegendOptionsBuilder().
				DisplayMode(common.LegendDisplayModeList).
				Placement(common.LegendPlacementBottom).
				ShowLegend(true)).
			Tooltip(common.NewVizTooltipOptionsBuilder().
				Mode(common.TooltipDisplayModeMulti).
				Sort(common.SortOrderDescending))
		for j, t := range p.Targets {
			tp = tp.WithTarget(prometheus.NewDataqueryBuilder().
				Datasource(ds).
				RefId(string(rune('A' + j))).
				Expr(t.Expr).
				LegendFormat(t.Legend).
				Range())
		}
		b = b.WithPanel(tp)
	}
	built, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("dashboard %s: %w", d.UID, err)
	}
	out, err := json.MarshalIndent(built, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func labelVariable(ds common.DataSourceRef, name, label, query string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(ds).
		Query(dashboard.StringOrMap{String: ptr(query)}).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(allValue).
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{String: ptr("All")},
			Value: dashboard.StringOrArrayOfString{String: ptr("$__all")},
		})
}

func ptr[T any](v T) *T { return &v }
