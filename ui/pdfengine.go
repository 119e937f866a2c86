package ui

import (
	"context"
	"path/filepath"
	"sync"

	"github.com/expertiza/expertiza/pdfdoc"
)

// pdfEngine makes the PDF typesetter on first use: installing its fonts
// costs tens of milliseconds once, which a user who never exports should
// not pay at start.
type pdfEngine struct {
	mu  sync.Mutex
	eng *pdfdoc.Engine
}

func (p *pdfEngine) get(ctx context.Context, dataDir string) (*pdfdoc.Engine, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.eng != nil {
		return p.eng, nil
	}
	dir := ""
	if dataDir != "" {
		dir = filepath.Join(dataDir, "pdfdoc")
	}
	eng, err := pdfdoc.New(ctx, dir)
	if err != nil {
		return nil, err
	}
	p.eng = eng
	return eng, nil
}
