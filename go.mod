module github.com/cohortline/cohortline

go 1.26.8
