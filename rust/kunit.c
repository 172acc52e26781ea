// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "seccomp_rust_engine": the self-tests of the Rust seccomp
 * engine (engine/selftest.rs), run inside the kernel.  The cases are Rust
 * functions; this file only presents them to KUnit as the parameters of
 * one parameterised test, so each case is reported under its own name.
 * The host build runs the same table with "cargo test".
 */

#include <kunit/test.h>

#include "seccomp_rs.h"

static const void *seccomp_rs_engine_gen_params(const void *prev, char *desc)
{
	const void *next = seccomp_rs_selftest_next(prev);

	if (next)
		seccomp_rs_selftest_name(next, desc, KUNIT_PARAM_DESC_SIZE);
	return next;
}

static void engine_selftest(struct kunit *test)
{
	char why[128];
	int ret;

	ret = seccomp_rs_selftest_run(test->param_value, why, sizeof(why));
	if (ret)
		KUNIT_FAIL(test, "%s", why);
}

static struct kunit_case engine_selftests[] = {
	KUNIT_CASE_PARAM(engine_selftest, seccomp_rs_engine_gen_params),
	{}
};

static struct kunit_suite seccomp_rs_engine_suite = {
	.name = "seccomp_rust_engine",
	.test_cases = engine_selftests,
};

kunit_test_suite(seccomp_rs_engine_suite);
