package netsec

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Secret says where a password is: the name of an environment variable
// or the path of a file (a mounted Kubernetes secret), never the password
// itself. Password is the YAML key that would hold it inline: it exists
// only so that Check refuses it by name, rather than as an unknown key.
type Secret struct {
	Password     string `yaml:"password"`
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`
}

// Check refuses an inline password and two sources at once; the errors
// never carry the password.
func (s Secret) Check() error {
	if s.Password != "" {
		return errors.New("password: a password is never written in the config file: name an environment variable (password_env) or a file (password_file) that holds it")
	}
	if s.PasswordEnv != "" && s.PasswordFile != "" {
		return errors.New("password_env, password_file: set one of them, not both")
	}
	return nil
}

// Set reports whether a source is named.
func (s Secret) Set() bool { return s.PasswordEnv != "" || s.PasswordFile != "" }

// Read returns the password from its source: "" when none is named. An
// empty variable or file is an error: a source named but empty is a
// mistake, not "no password". A file's trailing newline is not part of
// it (echo pw > file, kubectl create secret --from-file).
func (s Secret) Read(getenv func(string) string) (string, error) {
	if err := s.Check(); err != nil {
		return "", err
	}
	switch {
	case s.PasswordEnv != "":
		pw := getenv(s.PasswordEnv)
		if pw == "" {
			return "", fmt.Errorf("password_env: the environment variable %s is not set or empty", s.PasswordEnv)
		}
		return pw, nil
	case s.PasswordFile != "":
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("password_file: %w", err)
		}
		pw := strings.TrimRight(string(b), "\r\n")
		if pw == "" {
			return "", fmt.Errorf("password_file: %s is empty", s.PasswordFile)
		}
		return pw, nil
	}
	return "", nil
}
