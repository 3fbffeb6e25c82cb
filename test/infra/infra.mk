# Test infrastructure targets. Include from the top-level Makefile:
#   include test/infra/infra.mk
# make infra-up [SERVICES="kafka opensearch s3 prometheus"] | infra-down | infra-status | infra-env
INFRA_SH := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))/infra.sh
SERVICES ?= kafka opensearch s3 prometheus

.PHONY: infra-up infra-down infra-status infra-env

infra-up:
	bash $(INFRA_SH) up $(SERVICES)

infra-down:
	bash $(INFRA_SH) down

infra-status:
	bash $(INFRA_SH) status

infra-env:
	@bash $(INFRA_SH) env
