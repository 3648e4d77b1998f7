package trinotest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The JDK 25 AOT cache (JEP 483 ahead-of-time class loading and linking, JEP 514 one-step
// creation) holds Trino's boot classes already parsed, verified and linked. On the project's
// 2-core machines it cut coordinator start-up from about 8-10 s to about 6 s.
//
// A cache is only valid for the JDK, class path and JVM flags it was trained with, so it
// lives in <server>/.aot/ (which fetch-trino.sh wipes with the jars) under a name hashed from
// the JDK and the flags. The first coordinator to find no cache trains one: it runs with
// -XX:AOTCacheOutput, and the JVM writes the cache (about 115 MB, some 10-20 s) while it
// exits, so that coordinator's stop is graceful and slower. Others starting meanwhile run
// without a cache. If the JVM rejects a cache (for example after an in-place JDK update),
// it logs a warning and starts normally: AOTMode defaults to "auto".

type aotMode int

const (
	aotOff aotMode = iota
	aotUse
	aotTrain
)

// aotPlan is what one coordinator does about the AOT cache.
type aotPlan struct {
	t      env
	mode   aotMode
	reason string // why the cache is off
	cache  string // the cache file
	tmp    string // training output, renamed to cache once complete
	lock   string // held while training
	flags  []string
	log    string // the coordinator's log, checked for the JVM's completion message
}

// staleLock is how old a training lock must be before it is taken to belong to a run
// that died without cleaning up.
const staleLock = 15 * time.Minute

func planAOT(t env, serverDir, javaHome string, jvmFlags []string) *aotPlan {
	switch strings.ToLower(os.Getenv("TRINOTEST_AOT")) {
	case "off", "0", "false", "no":
		return &aotPlan{t: t, reason: "disabled by TRINOTEST_AOT"}
	}
	release, err := os.ReadFile(filepath.Join(javaHome, "release"))
	if err != nil {
		return &aotPlan{t: t, reason: fmt.Sprintf("cannot read the JDK's release file: %v", err)}
	}
	if major := javaMajor(release); major < 25 {
		return &aotPlan{t: t, reason: fmt.Sprintf("needs JDK 25+, have %d", major)}
	}
	dir := filepath.Join(serverDir, ".aot")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &aotPlan{t: t, reason: fmt.Sprintf("cannot create %s: %v", dir, err)}
	}

	h := sha256.New()
	fmt.Fprintf(h, "trino %s\njava %s\n%s\n", Version, javaHome, release)
	for _, f := range jvmFlags {
		fmt.Fprintf(h, "%s\n", f)
	}
	cache := filepath.Join(dir, "trino-"+Version+"-"+hex.EncodeToString(h.Sum(nil))[:16]+".aot")
	p := &aotPlan{t: t, cache: cache}

	if fi, err := os.Stat(cache); err == nil && fi.Size() > 0 {
		p.mode = aotUse
		p.flags = []string{"-XX:AOTCache=" + cache}
		return p
	}

	p.lock = cache + ".lock"
	if err := takeLock(p.lock); err != nil {
		p.reason = err.Error()
		p.lock = ""
		return p
	}
	p.mode = aotTrain
	p.tmp = fmt.Sprintf("%s.%d-%d.tmp", cache, os.Getpid(), time.Now().UnixNano())
	p.flags = []string{
		"-XX:AOTCacheOutput=" + p.tmp,
		// Training logs hundreds of harmless "Skipping ...: Duplicated unregistered class"
		// warnings for classes that plugin class loaders load again; keep real errors.
		"-Xlog:aot*=error,cds*=error",
	}
	return p
}

// takeLock creates path exclusively, replacing it once if it is stale.
func takeLock(path string) error {
	for range 2 {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(f, "pid %d\n", os.Getpid())
			return f.Close()
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("cannot create %s: %v", path, err)
		}
		fi, serr := os.Stat(path)
		if serr != nil || time.Since(fi.ModTime()) < staleLock {
			return fmt.Errorf("another test is training it (%s)", path)
		}
		_ = os.Remove(path)
	}
	return fmt.Errorf("cannot take %s", path)
}

// javaMajor reads JAVA_VERSION="25.0.3" from a JDK's release file.
func javaMajor(release []byte) int {
	sc := bufio.NewScanner(bytes.NewReader(release))
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "JAVA_VERSION=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"`)
		major, _, _ := strings.Cut(v, ".")
		n, _ := strconv.Atoi(major)
		return n
	}
	return 0
}

func (p *aotPlan) training() bool { return p.mode == aotTrain }

func (p *aotPlan) describe() string {
	switch p.mode {
	case aotUse:
		return "AOT cache " + filepath.Base(p.cache)
	case aotTrain:
		return "training AOT cache " + filepath.Base(p.cache) + "; it is written when this coordinator stops"
	default:
		return "no AOT cache: " + p.reason
	}
}

// finish publishes a trained cache if the JVM exited cleanly and reported it complete, and
// removes the training leftovers otherwise.
func (p *aotPlan) finish(exitedCleanly bool) {
	if p.mode != aotTrain {
		return
	}
	defer p.release()
	if !exitedCleanly {
		p.t.Logf("trinotest: coordinator did not exit in time; AOT cache not written")
		return
	}
	logData, _ := os.ReadFile(p.log)
	if !bytes.Contains(logData, []byte("AOTCache creation is complete: "+p.tmp)) {
		p.t.Logf("trinotest: the JVM did not report the AOT cache complete; not using %s", p.tmp)
		return
	}
	if err := os.Rename(p.tmp, p.cache); err != nil {
		p.t.Logf("trinotest: publishing AOT cache: %v", err)
		return
	}
	p.t.Logf("trinotest: AOT cache written to %s; later coordinators start faster", p.cache)
}

// abandon cleans up a plan whose coordinator never started.
func (p *aotPlan) abandon() {
	if p.mode == aotTrain {
		p.release()
	}
}

func (p *aotPlan) release() {
	_ = os.Remove(p.tmp)
	_ = os.Remove(p.tmp + ".config")
	_ = os.Remove(p.lock)
	p.mode = aotOff
	p.reason = "training finished"
}
