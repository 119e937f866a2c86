package seed

import (
	"context"
	"fmt"

	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/sync/wire"
)

// demoFindings are the lead expert's findings of the demo conclusions, per
// assigned section.
var demoFindings = []wire.ConclusionFinding{
	{Section: "07.03", Text: "Архитектурные решения соответствуют заданию на проектирование, требованиям СП 118.13330.2022 и СП 59.13330.2020; замечания по высоте помещений и зонам безопасности устранены."},
	{Section: "07.04", Text: "Конструктивные решения обеспечивают механическую безопасность здания; расчёт оснований выполнен с учётом отчёта об инженерно-геологических изысканиях."},
	{Section: "07.08", Text: "Решения по отоплению, вентиляции и кондиционированию воздуха соответствуют СП 60.13330.2020."},
	{Section: "07.15", Text: "Мероприятия по обеспечению пожарной безопасности соответствуют требованиям Федерального закона № 123-ФЗ и сводов правил системы противопожарной защиты."},
}

// demoConclusion saves the lead expert's draft of a demo conclusion with
// the verdict the plan names, so that it can be proposed and approved.
func demoConclusion(ctx context.Context, svc *service.Service, lead *service.Principal, a wire.Application, verdict wire.Status) error {
	justification := "Проектная документация соответствует требованиям технических регламентов и заданию на проектирование; замечания экспертизы устранены."
	if verdict == wire.StatusCompletedNegative {
		justification = "Проектная документация не соответствует требованиям технических регламентов: не устранены существенные замечания по разделу 07.04 КР (несущая способность фундаментов)."
	}
	var docs []int64
	files, err := svc.Documents(ctx, lead, a.ID)
	if err != nil {
		return fmt.Errorf("demo conclusion of %s: %w", a.Number, err)
	}
	for _, d := range files {
		if len(d.Versions) > 0 {
			docs = append(docs, d.Versions[0].ID)
		}
	}
	if _, err := svc.SaveConclusion(ctx, lead, a.ID, wire.SaveConclusionRequest{ContractNumber: "Д-" + a.Number, DocumentIDs: docs,
		Findings: demoFindings, Verdict: verdict, Justification: justification}); err != nil {
		return fmt.Errorf("demo conclusion of %s: %w", a.Number, err)
	}
	return nil
}
