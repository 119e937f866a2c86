package mail

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts the outcome of mail deliveries.
type Metrics struct {
	Sent     prometheus.Counter // accepted by the SMTP server
	Retried  prometheus.Counter // attempts that failed and will be tried again
	Failed   prometheus.Counter // messages given up after the last attempt
	Enqueued *prometheus.CounterVec
}

// NewMetrics creates the counters and registers them with reg (nil: not
// registered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Sent:    prometheus.NewCounter(prometheus.CounterOpts{Name: "expertiza_mail_sent_total", Help: "E-mails accepted by the SMTP server."}),
		Retried: prometheus.NewCounter(prometheus.CounterOpts{Name: "expertiza_mail_attempts_failed_total", Help: "E-mail delivery attempts that failed and will be retried."}),
		Failed:  prometheus.NewCounter(prometheus.CounterOpts{Name: "expertiza_mail_failed_total", Help: "E-mails given up after the last attempt."}),
		Enqueued: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "expertiza_mail_enqueued_total",
			Help: "E-mails put in the queue, by kind (instant, daily, weekly)."}, []string{"kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.Sent, m.Retried, m.Failed, m.Enqueued)
	}
	return m
}
