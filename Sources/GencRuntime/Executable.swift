import GencPlan
