/*
 * meta_builtin.c: the meta-analysis that needs no model (see
 * meta_builtin() in meta.h): what the ledger itself shows, ranked.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "ledger.h"
#include "meta.h"
#include "proposer.h"
#include "xalloc.h"
#include "banned.h"

/* The smallest sample a rank correlation is reported from. */
#define META_MIN_PAIRS 4
/* The smallest |rho| that makes a hypothesis. */
#define META_MIN_RHO 0.3

/* ---------------------------------------------------------------- */
/* Builtin                                                            */
/* ---------------------------------------------------------------- */

/* Ranks of the 'n' values 'v' into 'rk' (ties share their mean rank). */
static void ranks(double *rk, const double *v, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		double less = 0, same = 0;

		for (k = 0; k < n; k++) {
			if (v[k] < v[i])
				less++;
			else if (v[k] == v[i])
				same++;
		}
		rk[i] = less + (same + 1) / 2.0;
	}
}

/* Spearman's rank correlation of the 'n' pairs (x, y). */
static double spearman(const double *x, const double *y, size_t n)
{
	double *rx = xcalloc(n, sizeof(*rx)), *ry = xcalloc(n, sizeof(*ry));
	double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0, rho;
	size_t i;

	ranks(rx, x, n);
	ranks(ry, y, n);
	for (i = 0; i < n; i++) {
		mx += rx[i];
		my += ry[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (i = 0; i < n; i++) {
		sxy += (rx[i] - mx) * (ry[i] - my);
		sxx += (rx[i] - mx) * (rx[i] - mx);
		syy += (ry[i] - my) * (ry[i] - my);
	}
	rho = sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
	free(rx);
	free(ry);
	return rho;
}

/* Append a hypothesis {text, confidence, kind} to 'out'. */
static void hypothesis(json_t *out, const char *kind, double confidence,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void hypothesis(json_t *out, const char *kind, double confidence,
		       const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (confidence > 1)
		confidence = 1;
	json_array_append_new(
	    out, json_pack("{s:o, s:f, s:s}", "text",
			   digest_clip(buf_str(&b), META_TEXT_MAX),
			   "confidence", confidence, "kind", kind));
	buf_release(&b);
}

/* How much a sample of 'n' runs is worth, up to 1 at 12. */
static double weight(size_t n)
{
	return n >= 12 ? 1.0 : (double)n / 12.0;
}

/* The hypotheses about the range parameter 'p' (dimension 'd'). */
static void about_range(json_t *out, const struct proposer_param *p,
			const double *u, const double *good, size_t n,
			const struct ledger_metric *m)
{
	double rho = spearman(u, good, n);

	if (fabs(rho) < META_MIN_RHO)
		return;
	hypothesis(out, "parameter", fabs(rho) * weight(n),
		   "%s %s tends to improve %s (rank correlation %.2f over %zu "
		   "runs): try %s values of %s",
		   rho > 0 ? "higher" : "lower", p->name, m->name, rho, n,
		   rho > 0 ? "higher" : "lower", p->name);
}

/* The hypothesis about the choice parameter 'p' from its points. */
static void about_choice(json_t *out, const struct proposer_param *p,
			 const json_t *points, const double *good, size_t n,
			 const struct ledger_metric *m)
{
	size_t c, i, nc = json_array_size(p->choices), best = nc;
	double best_mean = 0, rest = 0;
	size_t best_n = 0, rest_n = 0;
	char *text;

	for (c = 0; c < nc; c++) {
		double sum = 0;
		size_t k = 0;

		for (i = 0; i < n; i++) {
			if (json_equal(json_object_get(
					   json_array_get(points, i), p->name),
				       json_array_get(p->choices, c))) {
				sum += good[i];
				k++;
			}
		}
		if (k >= 2 && (best == nc || sum / (double)k > best_mean)) {
			best = c;
			best_mean = sum / (double)k;
			best_n = k;
		}
	}
	if (best == nc)
		return;
	for (i = 0; i < n; i++) {
		if (!json_equal(
			json_object_get(json_array_get(points, i), p->name),
			json_array_get(p->choices, best))) {
			rest += good[i];
			rest_n++;
		}
	}
	if (!rest_n || rest / (double)rest_n >= best_mean)
		return;
	rest /= (double)rest_n;
	text = json_dumps(json_array_get(p->choices, best),
			  JSON_ENCODE_ANY | JSON_COMPACT);
	hypothesis(out, "choice", 0.6 * weight(n),
		   "%s=%s gives the best mean %s (%g over %zu runs, against "
		   "%g over the other %zu): keep it",
		   p->name, text, m->name, m->maximize ? best_mean : -best_mean,
		   best_n, m->maximize ? rest : -rest, rest_n);
	free(text);
}

/* The hypotheses about each parameter of 'space' from 'rows'. */
static void about_params(json_t *out, const json_t *rows,
			 const struct ledger_metric *m,
			 const struct proposer_space *space)
{
	size_t i, d, n = 0, rows_n = json_array_size(rows);
	double *good = xcalloc(rows_n ? rows_n : 1, sizeof(*good));
	double *u =
	    xcalloc((rows_n ? rows_n : 1) * PROPOSER_DIMS_MAX, sizeof(*u));
	double *col = xcalloc(rows_n ? rows_n : 1, sizeof(*col));
	json_t *points = json_array();

	for (i = 0; i < rows_n; i++) {
		const json_t *row = json_array_get(rows, i);
		const char *st =
		    json_string_value(json_object_get(row, "status"));
		const json_t *v = json_object_get(row, "metric");

		if (!json_is_number(v) || !st ||
		    (strcmp(st, "keep") && strcmp(st, "discard")) ||
		    proposer_encode(space, u + n * PROPOSER_DIMS_MAX,
				    json_object_get(row, "params")) < 0)
			continue;
		good[n] =
		    m->maximize ? json_number_value(v) : -json_number_value(v);
		json_array_append(points, json_object_get(row, "params"));
		n++;
	}
	for (d = 0; n >= META_MIN_PAIRS && d < space->n; d++) {
		for (i = 0; i < n; i++)
			col[i] = u[i * PROPOSER_DIMS_MAX + d];
		if (space->params[d].kind == PROPOSER_CHOICE)
			about_choice(out, &space->params[d], points, good, n,
				     m);
		else
			about_range(out, &space->params[d], col, good, n, m);
	}
	json_decref(points);
	free(good);
	free(u);
	free(col);
}

/* Sort hypotheses by confidence, best first, and number them. */
void meta_rank(json_t *hyps)
{
	size_t i, k, n = json_array_size(hyps);

	/* Insertion sort: a few entries, and it keeps ties in order. */
	for (i = 1; i < n; i++) {
		for (k = i; k > 0; k--) {
			double a = json_number_value(json_object_get(
			    json_array_get(hyps, k - 1), "confidence"));
			double b = json_number_value(json_object_get(
			    json_array_get(hyps, k), "confidence"));
			json_t *t;

			if (b <= a)
				break;
			t = json_incref(json_array_get(hyps, k));
			json_array_remove(hyps, k);
			json_array_insert_new(hyps, k - 1, t);
		}
	}
	while (json_array_size(hyps) > META_HYPOTHESES_MAX)
		json_array_remove(hyps, META_HYPOTHESES_MAX);
	for (i = 0; i < json_array_size(hyps); i++)
		json_object_set_new(json_array_get(hyps, i), "rank",
				    json_integer((json_int_t)i + 1));
}

json_t *meta_builtin(const json_t *rows, const struct ledger_metric *m,
		     const struct proposer_space *space, int explore_after)
{
	json_t *out = json_array();
	const json_t *best = NULL;
	size_t i, total = 0, failed = 0, since = 0;
	double best_v = 0;

	for (i = 0; i < json_array_size(rows); i++) {
		const json_t *row = json_array_get(rows, i);
		const char *st =
		    json_string_value(json_object_get(row, "status"));
		const json_t *v = json_object_get(row, "metric");

		if (!st || !strcmp(st, "requeued"))
			continue;
		total++;
		since++;
		if (!strcmp(st, "crash") || !strcmp(st, "timeout"))
			failed++;
		if (!strcmp(st, "keep") && json_is_number(v) &&
		    (!best || (m->maximize ? json_number_value(v) > best_v
					   : json_number_value(v) < best_v))) {
			best = row;
			best_v = json_number_value(v);
			since = 0;
		}
	}
	if (space)
		about_params(out, rows, m, space);
	if (total >= 3 && failed * 4 >= total)
		hypothesis(out, "crashes", (double)failed / (double)total,
			   "%zu of %zu runs crashed or timed out: make the "
			   "runs robust (smaller steps, a shorter time "
			   "budget, checks before long work) before "
			   "exploring further",
			   failed, total);
	if (best && since >= (size_t)(explore_after > 0 ? explore_after : 3))
		hypothesis(out, "stagnation", 0.3 + 0.5 * weight(since),
			   "no gain in the last %zu runs: try a structurally "
			   "different idea rather than another small change",
			   since);
	if (best) {
		const char *desc =
		    json_string_value(json_object_get(best, "description"));
		json_t *clip = digest_clip(desc ? desc : "", 300);

		hypothesis(
		    out, "best", 0.25,
		    "build on the best run so far (result %" JSON_INTEGER_FORMAT
		    ", %s %g): %s",
		    json_integer_value(json_object_get(best, "id")), m->name,
		    best_v, json_string_value(clip));
		json_decref(clip);
	}
	if (!json_array_size(out))
		hypothesis(out, "few", 0.1,
			   "too few results to see a pattern (%zu): keep "
			   "exploring",
			   total);
	meta_rank(out);
	return out;
}
