package policy

import (
	"context"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch reloads the bundle when a file under the policy directory changes,
// until ctx ends. Bursts of events (an editor's save, a git checkout) are
// folded into one reload after a short quiet period.
func (e *Engine) Watch(ctx context.Context, quiet time.Duration) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	addTree := func() {
		_ = filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = w.Add(p)
			}
			return nil
		})
	}
	addTree()
	go func() {
		defer w.Close()
		var timer <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if ev.Has(fsnotify.Create) {
					addTree() // a new sub-directory must be watched too
				}
				timer = time.After(quiet)
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				e.log.Warn("policy watcher", "err", err)
			case <-timer:
				timer = nil
				_ = e.Reload(ctx) // failures are logged and counted by Reload
			}
		}
	}()
	return nil
}
