/*
 * proposer.c: the builtin proposer: a parameter space, its unit cube,
 * a shifted Halton design, local search with a shrinking radius and the
 * stagnation guard (see proposer.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "proposer.h"
#include "banned.h"

/* The first PROPOSER_DIMS_MAX primes: one Halton base per dimension. */
static const unsigned primes[PROPOSER_DIMS_MAX] = {
	2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53,
	59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131,
};

/* How far the next Halton point is searched for an untried one. */
#define PROPOSER_SEARCH_MAX 1000

/* ---------------------------------------------------------------- */
/* The space                                                          */
/* ---------------------------------------------------------------- */

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Check and fill 'p' from its definition 'def'. */
static int parse_param(struct proposer_param *p, const char *name,
		       const json_t *def, const char *where, struct err *err)
{
	const char *type = json_string_value(json_object_get(def, "type"));
	const json_t *low = json_object_get(def, "low");
	const json_t *high = json_object_get(def, "high");

	memset(p, 0, sizeof(*p));
	p->name = name;
	p->log = json_is_true(json_object_get(def, "log"));
	if (type && !strcmp(type, "choice")) {
		p->kind = PROPOSER_CHOICE;
		p->choices = json_object_get(def, "choices");
		if (!json_array_size(p->choices))
			return err_set(err, ERR_CONFIG_INVALID,
				       "%s.params.%s: a choice needs choices",
				       where, name);
		return 0;
	}
	p->kind = type && !strcmp(type, "int") ? PROPOSER_INT : PROPOSER_FLOAT;
	if (!json_is_number(low) || !json_is_number(high))
		return err_set(err, ERR_CONFIG_INVALID,
			       "%s.params.%s: a range needs low and high",
			       where, name);
	p->low = json_number_value(low);
	p->high = json_number_value(high);
	if (!(p->low < p->high))
		return err_set(err, ERR_CONFIG_INVALID,
			       "%s.params.%s: low must be below high", where,
			       name);
	if (p->log && p->low <= 0)
		return err_set(err, ERR_CONFIG_INVALID,
			       "%s.params.%s: a log scale needs low above 0",
			       where, name);
	if (p->kind == PROPOSER_INT) {
		p->low = ceil(p->low);
		p->high = floor(p->high);
		if (p->low > p->high)
			return err_set(err, ERR_CONFIG_INVALID,
				       "%s.params.%s: no integer between low "
				       "and high",
				       where, name);
	}
	return 0;
}

int proposer_space_parse(struct proposer_space *out, const json_t *params,
			 const char *where, struct err *err)
{
	const char *names[PROPOSER_DIMS_MAX];
	const char *key;
	const json_t *def;
	size_t n = 0, i;

	memset(out, 0, sizeof(*out));
	json_object_foreach((json_t *)params, key, def)
	{
		if (n == PROPOSER_DIMS_MAX)
			return err_set(err, ERR_CONFIG_INVALID,
				       "%s.params: more than %d parameters",
				       where, PROPOSER_DIMS_MAX);
		names[n++] = key;
	}
	if (!n)
		return err_set(err, ERR_CONFIG_INVALID,
			       "%s.params: no parameters", where);
	qsort(names, n, sizeof(names[0]), compare_names);
	for (i = 0; i < n; i++) {
		if (parse_param(&out->params[i], names[i],
				json_object_get(params, names[i]), where,
				err) < 0) {
			memset(out, 0, sizeof(*out));
			return -1;
		}
	}
	out->n = n;
	return 0;
}

/* 'v' rounded to 4 significant digits. */
static double round4(double v)
{
	char s[64];

	snprintf(s, sizeof(s), "%.4g", v);
	return strtod(s, NULL);
}

/* The value of parameter 'p' at the unit coordinate 'u' (new). */
static json_t *decode_one(const struct proposer_param *p, double u)
{
	double v, lo = p->low, hi = p->high;
	size_t n, k;

	if (u < 0)
		u = 0;
	if (u >= 1)
		u = nextafter(1.0, 0.0);
	switch (p->kind) {
	case PROPOSER_CHOICE:
		n = json_array_size(p->choices);
		k = (size_t)(u * (double)n);
		if (k >= n)
			k = n - 1;
		return json_deep_copy(json_array_get(p->choices, k));
	case PROPOSER_INT:
		if (p->log)
			v = round(exp(log(lo) + u * (log(hi) - log(lo))));
		else
			v = lo + floor(u * (hi - lo + 1));
		if (v > hi)
			v = hi;
		if (v < lo)
			v = lo;
		return json_integer((json_int_t)v);
	case PROPOSER_FLOAT:
	default:
		if (p->log)
			v = exp(log(lo) + u * (log(hi) - log(lo)));
		else
			v = lo + u * (hi - lo);
		v = round4(v);
		if (v > hi)
			v = hi;
		if (v < lo)
			v = lo;
		return json_real(v);
	}
}

json_t *proposer_decode(const struct proposer_space *s, const double *u)
{
	json_t *out = json_object();
	size_t i;

	for (i = 0; i < s->n; i++)
		json_object_set_new(out, s->params[i].name,
				    decode_one(&s->params[i], u[i]));
	return out;
}

/* The unit coordinate of 'v' for 'p', or -1 when it is not in range. */
static double encode_one(const struct proposer_param *p, const json_t *v)
{
	double x, lo = p->low, hi = p->high, eps;
	size_t i, n;

	if (p->kind == PROPOSER_CHOICE) {
		n = json_array_size(p->choices);
		for (i = 0; i < n; i++)
			if (json_equal(json_array_get(p->choices, i), v))
				return ((double)i + 0.5) / (double)n;
		return -1;
	}
	if (!json_is_number(v))
		return -1;
	x = json_number_value(v);
	eps = 1e-9 * (fabs(lo) + fabs(hi) + 1);
	if (x < lo - eps || x > hi + eps)
		return -1;
	if (p->kind == PROPOSER_INT && !p->log)
		return (floor(x + 0.5) - lo + 0.5) / (hi - lo + 1);
	if (p->log) {
		if (x <= 0)
			return -1;
		if (hi == lo)
			return 0.5;
		x = (log(x) - log(lo)) / (log(hi) - log(lo));
	} else {
		x = (x - lo) / (hi - lo);
	}
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

int proposer_encode(const struct proposer_space *s, double *u,
		    const json_t *point)
{
	size_t i;

	if (!json_is_object(point))
		return -1;
	for (i = 0; i < s->n; i++) {
		u[i] = encode_one(&s->params[i],
				  json_object_get(point, s->params[i].name));
		if (u[i] < 0)
			return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* Sequences                                                          */
/* ---------------------------------------------------------------- */

double proposer_radical_inverse(uint64_t i, unsigned base)
{
	double inv = 1.0 / base, f = inv, r = 0;

	while (i > 0) {
		r += f * (double)(i % base);
		i /= base;
		f *= inv;
	}
	return r;
}

uint64_t proposer_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A uniform double in [0, 1) from '*state'. */
static double rand01(uint64_t *state)
{
	return (double)(proposer_rand(state) >> 11) *
	       (1.0 / 9007199254740992.0);
}

/* Point 'i' of the Halton sequence of 's', shifted by 'seed'. */
static void halton_point(const struct proposer_space *s, double *u, uint64_t i,
			 uint64_t seed)
{
	uint64_t st = seed ^ 0x5851f42d4c957f2dULL;
	size_t d;

	for (d = 0; d < s->n; d++) {
		double x =
		    proposer_radical_inverse(i + 1, primes[d]) + rand01(&st);

		u[d] = x - floor(x);
	}
}

/* ---------------------------------------------------------------- */
/* History                                                            */
/* ---------------------------------------------------------------- */

/* What the history says, in the unit cube. */
struct seen {
	json_t *tried_points; /* their decoded params, to compare */
	double best_u[PROPOSER_DIMS_MAX];
	int have_best;
	double best;
	int stale;     /* rows since the best last improved */
	int evaluated; /* rows with a metric and a point */
};

static void seen_release(struct seen *s)
{
	json_decref(s->tried_points);
}

/* Read 'in->history' into 'out'. */
static void read_history(struct seen *out, const struct proposer_input *in)
{
	size_t i, n = json_array_size(in->history);
	double u[PROPOSER_DIMS_MAX];

	memset(out, 0, sizeof(*out));
	out->tried_points = json_array();
	for (i = 0; i < n; i++) {
		const json_t *row = json_array_get(in->history, i);
		const json_t *metric = json_object_get(row, "metric");
		const char *status =
		    json_string_value(json_object_get(row, "status"));
		double v, gain;

		if (status && !strcmp(status, "requeued"))
			continue;
		if (proposer_encode(in->space, u,
				    json_object_get(row, "params")) < 0) {
			out->stale++;
			continue;
		}
		json_array_append_new(out->tried_points,
				      proposer_decode(in->space, u));
		if (!json_is_number(metric) || !status ||
		    (strcmp(status, "keep") && strcmp(status, "discard"))) {
			out->stale++;
			continue;
		}
		out->evaluated++;
		v = json_number_value(metric);
		gain = out->have_best
			   ? (in->maximize ? v - out->best : out->best - v)
			   : 1;
		if (!out->have_best || gain > in->min_improvement) {
			out->have_best = 1;
			out->best = v;
			memcpy(out->best_u, u, sizeof(u));
			out->stale = 0;
		} else {
			out->stale++;
		}
	}
}

/* Whether the decoded point 'p' was tried already. */
static int was_tried(const struct seen *s, const json_t *p)
{
	size_t i;

	for (i = 0; i < json_array_size(s->tried_points); i++)
		if (json_equal(json_array_get(s->tried_points, i), p))
			return 1;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Proposals                                                          */
/* ---------------------------------------------------------------- */

void proposer_choice_release(struct proposer_choice *c)
{
	if (!c)
		return;
	json_decref(c->params);
	json_decref(c->best);
	c->params = NULL;
	c->best = NULL;
}

/* The first untried Halton point from index 'from'. */
static json_t *halton_untried(const struct proposer_input *in,
			      const struct seen *s, uint64_t from)
{
	double u[PROPOSER_DIMS_MAX];
	json_t *p = NULL;
	int k;

	for (k = 0; k < PROPOSER_SEARCH_MAX; k++) {
		json_decref(p);
		halton_point(in->space, u, from + (uint64_t)k, in->seed);
		p = proposer_decode(in->space, u);
		if (!was_tried(s, p))
			break;
	}
	return p;
}

/* Reflect 'x' into [0, 1]. */
static double reflect(double x)
{
	if (x < 0)
		x = -x;
	if (x > 1)
		x = 2 - x;
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

/*
 * A point near the best within 'radius' that was not tried, or NULL
 * when every candidate drawn was.
 */
static json_t *local_point(const struct proposer_input *in,
			   const struct seen *s, double radius)
{
	const struct proposer_space *sp = in->space;
	uint64_t st = in->seed * 0x2545f4914f6cdd1dULL +
		      (uint64_t)in->index * 0x9e3779b97f4a7c15ULL + 1;
	double u[PROPOSER_DIMS_MAX];
	json_t *p;
	size_t d, nc;
	int c;

	for (c = 0; c < PROPOSER_CANDIDATES; c++) {
		for (d = 0; d < sp->n; d++) {
			if (sp->params[d].kind == PROPOSER_CHOICE) {
				nc = json_array_size(sp->params[d].choices);
				u[d] = s->best_u[d];
				if (nc > 1 && rand01(&st) < radius)
					u[d] =
					    ((double)(proposer_rand(&st) % nc) +
					     0.5) /
					    (double)nc;
				continue;
			}
			u[d] = reflect(s->best_u[d] +
				       (2 * rand01(&st) - 1) * radius);
		}
		p = proposer_decode(sp, u);
		if (!was_tried(s, p))
			return p;
		json_decref(p);
	}
	return NULL;
}

void proposer_next(struct proposer_choice *out, const struct proposer_input *in)
{
	struct seen s;
	const char *metric = in->maximize ? "highest" : "lowest";

	memset(out, 0, sizeof(*out));
	read_history(&s, in);
	out->stale = s.stale;
	out->evaluated = s.evaluated;
	if (s.have_best)
		out->best = proposer_decode(in->space, s.best_u);
	if (in->index < in->initial_points) {
		out->move = "initial";
		out->params = halton_untried(in, &s, (uint64_t)in->index);
		snprintf(out->reason, sizeof(out->reason),
			 "initial design: point %d of %d of a shifted Halton "
			 "sequence",
			 in->index + 1, in->initial_points);
	} else if (!s.have_best) {
		out->move = "explore";
		out->params = halton_untried(in, &s, (uint64_t)in->index);
		snprintf(out->reason, sizeof(out->reason),
			 "no run has a metric yet: the next untried point of "
			 "the Halton sequence");
	} else if (in->explore_after > 0 && s.stale >= in->explore_after &&
		   s.stale % in->explore_after == 0) {
		out->move = "explore";
		out->params = halton_untried(in, &s, (uint64_t)in->index);
		snprintf(out->reason, sizeof(out->reason),
			 "stagnation guard: %d runs without a gain, so an "
			 "untried region instead of the best's neighbourhood",
			 s.stale);
	} else {
		out->move = "local";
		out->radius = PROPOSER_RADIUS * pow(PROPOSER_SHRINK, s.stale);
		if (out->radius < PROPOSER_RADIUS_MIN)
			out->radius = PROPOSER_RADIUS_MIN;
		out->params = local_point(in, &s, out->radius);
		snprintf(out->reason, sizeof(out->reason),
			 "local search around the %s run (%g) with radius "
			 "%.3g after %d runs without a gain",
			 metric, s.best, out->radius, s.stale);
		if (!out->params) {
			out->move = "explore";
			out->radius = 0;
			out->params =
			    halton_untried(in, &s, (uint64_t)in->index);
			snprintf(out->reason, sizeof(out->reason),
				 "every point near the %s run was tried: an "
				 "untried region instead",
				 metric);
		}
	}
	seen_release(&s);
}

/* Append the value 'v' of a parameter to 'b'. */
static void add_value(struct buf *b, const json_t *v)
{
	char *text;

	if (json_is_string(v)) {
		buf_adds(b, json_string_value(v));
		return;
	}
	if (json_is_real(v)) {
		buf_addf(b, "%g", json_real_value(v));
		return;
	}
	text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	buf_adds(b, text ? text : "null");
	free(text);
}

char *proposer_idea_text(const struct proposer_space *s,
			 const struct proposer_choice *c)
{
	struct buf b = BUF_INIT;
	size_t i;

	buf_adds(&b, "Set ");
	for (i = 0; i < s->n; i++) {
		buf_addf(&b, "%s%s=", i ? ", " : "", s->params[i].name);
		add_value(&b, json_object_get(c->params, s->params[i].name));
	}
	buf_addf(&b, " (builtin proposer, %s move: %s).", c->move, c->reason);
	return buf_detach(&b, NULL);
}
