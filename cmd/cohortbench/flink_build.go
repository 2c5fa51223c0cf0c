package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// flinkJar is the built job of stage (d): its classpath and what building
// it took in this run.
type flinkJar struct {
	classpath string
	// built is how long this run's Maven build took; 0 when the jar was
	// already built from the same pom and sources.
	built time.Duration
}

// flinkMissing names the tool stage (d) lacks, or is "" when java and mvn
// are both on the PATH.
func flinkMissing() string {
	for _, tool := range []string{"java", "mvn"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " not found on the PATH"
		}
	}
	return ""
}

// buildFlinkJob builds the job in dir (its pom.xml) with Maven unless
// target/ holds a build of the same pom and sources, stamped by their
// checksum. The first build downloads Flink and its dependencies from Maven
// Central into repo (default ~/.m2); later ones need no network.
func buildFlinkJob(ctx context.Context, dir, repo, logPath string) (flinkJar, error) {
	target := filepath.Join(dir, "target")
	jar := flinkJar{classpath: filepath.Join(target, "cohortbench-flink.jar") + string(os.PathListSeparator) + filepath.Join(target, "lib", "*")}
	sum, err := flinkSourceSum(dir)
	if err != nil {
		return flinkJar{}, err
	}
	stamp := filepath.Join(target, ".cohortbench-sources")
	if b, err := os.ReadFile(stamp); err == nil && string(b) == sum {
		return jar, nil
	}
	args := []string{"-B", "-ntp", "-f", filepath.Join(dir, "pom.xml")}
	if repo != "" {
		args = append(args, "-Dmaven.repo.local="+repo)
	}
	args = append(args, "package")
	log, err := os.Create(logPath)
	if err != nil {
		return flinkJar{}, fmt.Errorf("creating %s: %w", logPath, err)
	}
	defer log.Close()
	cmd := exec.CommandContext(ctx, "mvn", args...)
	cmd.Stdout, cmd.Stderr = log, log
	began := time.Now()
	if err := cmd.Run(); err != nil {
		c := &child{log: logPath}
		return flinkJar{}, fmt.Errorf("building the Flink job: mvn %v: %w\n%s", args, err, c.logTail(30))
	}
	jar.built = time.Since(began)
	if err := os.WriteFile(stamp, []byte(sum), 0o644); err != nil {
		return flinkJar{}, fmt.Errorf("stamping the Flink job's build: %w", err)
	}
	return jar, nil
}

// flinkSourceSum is a checksum of dir's pom.xml and every file under src/.
func flinkSourceSum(dir string) (string, error) {
	h := sha256.New()
	files := []string{filepath.Join(dir, "pom.xml")}
	err := filepath.WalkDir(filepath.Join(dir, "src"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("listing the Flink job's sources in %s: %w", dir, err)
	}
	for _, f := range files { // WalkDir goes in lexical order
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("reading the Flink job's sources: %w", err)
		}
		rel, _ := filepath.Rel(dir, f) // the same sum from any working directory
		fmt.Fprintf(h, "%s %d\n", rel, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
